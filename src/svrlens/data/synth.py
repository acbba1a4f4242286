"""Base datasets #1 (cube↔sphere, 1000 shapes) and #2 (cube/pyramid/sphere, 10,000 shapes)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated, Literal, Optional

import numpy as np
from pydantic import AfterValidator, Field
from tqdm.auto import tqdm

from svrlens.options import Int, Seed, option, validated

from .dataset import Dataset
from .mesh import base_vertices, cube_grid_mesh
from .render import render_isometric
from .sampling import sample_surface

FAMILIES = {"cube-sphere": ("cube", "sphere"), "cube-pyramid-sphere": ("cube", "pyramid", "sphere")}
DEFAULT_SHAPES = {"cube-sphere": 1000, "cube-pyramid-sphere": 10000}
# Paper sec. 3.2: 700 train / 200 test / 100 validation of 1000.
SPLIT_FRACTIONS = {"train": 0.7, "test": 0.2, "val": 0.1}
_CHUNK = 256
SAMPLING_MODES = ("coupled", "independent")
_COUPLED_STREAM = 2**32  # outside the range of shape indices
# A base dataset is generated in memory: refuse one that cannot fit before generating anything.
MAX_DATASET_BYTES = 2**36


def _even(n: int) -> int:
    if n % 2:
        raise ValueError("an even number of grid cells")
    return n


def dataset_bytes(n_shapes: int, image_size: int, n_points: int, dense_points: int) -> int:
    """Bytes of a generated dataset's arrays: uint8 images, float32 points and dense clouds."""
    return n_shapes * (image_size * image_size * 3 + (n_points + dense_points) * 3 * 4)


@validated
class SynthConfig:
    """Parameters of a synthetic base dataset (saved in its manifest).

    family : "cube-sphere" (base #1) or "cube-pyramid-sphere" (base #2)
    n_shapes : default 1000 for base #1, 10,000 for base #2
    n_points : points per cloud (paper: 1024)
    image_size : pixels per side (128 default; 64 for the fastest runs, 224 for ResNet's size)
    mesh_resolution : grid cells per cube-face side; default 16 up to 128 px, else 32
        (measured: no visible sphere facets at those sizes)
    mode : "radial" (smooth, default) or "nearest-vertex" (the paper's literal Blender recipe)
    size : "volume" (equal volumes, default) or "bounding" (equal bounding radius √3)
    sampling : "coupled" (default) or "independent". Either way each cloud is an exact
        area-weighted uniform sample of its own surface and any shape regenerates alone.
        "independent" draws shape i from ``default_rng([seed, i])``; two samples of the *same*
        shape are then ~0.14 apart in Chamfer (1024 points, measured), more than shapes 0.2
        apart in t (0.159 vs 0.149 for the same shape): the sampling noise hides the clusters of
        set 1.1 (shape tendency flat at ~0.23 from 1.1.1 to 1.1.7). "coupled" uses common random
        numbers, ``default_rng([seed, 2**32])`` for every shape, mapped through each shape's own
        area CDF, so nearby shapes get nearby clouds (t 0.1 vs 0.101: Chamfer 0.002) and the
        Chamfer matrix measures geometry, not sampling (1.1 shape tendency 0.84 → 0.41).
    dense_points : points of each shape's dense evaluation cloud (default 4096; 0: none), drawn
        from its own stream ``default_rng([seed, 3, i])``, independent of the training cloud
        whatever ``sampling`` is: predictions and baselines are scored against it, and a
        training cloud against it measures the sampling floor (svrlens.evaluation.references)
    seed : every random choice (split, per-shape samples) derives from it

    Types and ranges are checked when the object is built or a field is set (a one-line
    ``ValueError`` naming the field); :meth:`resolved` also refuses a dataset whose arrays would
    exceed :data:`MAX_DATASET_BYTES` (64 GiB), before anything is generated.
    """

    family: Annotated[
        Literal["cube-sphere", "cube-pyramid-sphere"], option("base dataset #1 or #2", flag="family")
    ] = "cube-sphere"
    n_shapes: Annotated[
        Optional[Annotated[Int, Field(ge=10, le=10**7)]],
        option(
            "number of shapes",
            flag="--shapes",
            default_text="1000 for cube-sphere, 10,000 for cube-pyramid-sphere",
        ),
    ] = None
    n_points: Annotated[Int, option("points per cloud", flag="--points", ge=1, le=10**6)] = 1024
    image_size: Annotated[Int, option("image side", unit="px", ge=8, le=1024)] = 128
    mesh_resolution: Annotated[
        Optional[Annotated[Int, AfterValidator(_even), Field(ge=2, le=256)]],
        option("grid cells per cube-face side (even)", default_text="16 up to 128 px, else 32"),
    ] = None
    mode: Annotated[Literal["radial", "nearest-vertex"], option("morph construction")] = "radial"
    size: Annotated[
        Literal["volume", "bounding"], option("base shapes of equal volume or bounding radius")
    ] = "volume"
    sampling: Annotated[Literal["coupled", "independent"], option("point sampling across shapes")] = "coupled"
    dense_points: Annotated[
        Int, option("points of each shape's dense evaluation cloud (0: none)", ge=0, le=10**6)
    ] = 4096
    seed: Annotated[Seed, option("seed of every random choice (splits, samples)")] = 0

    def resolved(self) -> "SynthConfig":
        """A copy with the defaults that depend on other fields filled in (``n_shapes``,
        ``mesh_resolution``); raises ValueError when the dataset would not fit in memory."""
        n_shapes = DEFAULT_SHAPES[self.family] if self.n_shapes is None else self.n_shapes
        size = dataset_bytes(n_shapes, self.image_size, self.n_points, self.dense_points)
        if size > MAX_DATASET_BYTES:
            raise ValueError(
                f"n_shapes (--shapes), image_size, n_points, dense_points: expected a dataset of at "
                f"most {MAX_DATASET_BYTES / 2**30:.0f} GiB in memory, found {size / 2**30:,.0f} GiB"
            )
        resolution = self.mesh_resolution or (16 if self.image_size <= 128 else 32)
        return replace(self, n_shapes=n_shapes, mesh_resolution=resolution)


def morph_weights(family: str, n_shapes: int, seed: int) -> np.ndarray:
    """(N, K) weights of the base shapes, one row per shape.

    Base #1: t evenly spaced in [0, 1], weights (1 − t, t). Base #2: the triangular lattice
    {(i, j, L − i − j)/L} with the smallest L giving ≥ N points, of which a seeded random N are
    kept (the lattice covers the 2-simplex evenly; the drop keeps the count exact), sorted.
    """
    if family == "cube-sphere":
        t = np.linspace(0.0, 1.0, n_shapes)
        return np.stack([1 - t, t], 1)
    level = 1
    while (level + 1) * (level + 2) // 2 < n_shapes:
        level += 1
    lattice = (
        np.array([(i, j, level - i - j) for i in range(level + 1) for j in range(level + 1 - i)], np.float64)
        / level
    )
    keep = np.sort(np.random.default_rng([seed, 1]).choice(len(lattice), n_shapes, replace=False))
    return lattice[keep]


def training_split_size(n_shapes: int) -> int:
    """How many of ``n_shapes`` shapes :func:`random_splits` puts in the training split."""
    return int(round(SPLIT_FRACTIONS["train"] * n_shapes))


def random_splits(n_shapes: int, seed: int) -> dict:
    """Seeded random split in the paper's 70 / 20 / 10 % proportions (train / test / val)."""
    order = np.random.default_rng([seed, 2]).permutation(n_shapes)
    n_train = training_split_size(n_shapes)
    n_test = int(round(SPLIT_FRACTIONS["test"] * n_shapes))
    return {
        "train": np.sort(order[:n_train]),
        "val": np.sort(order[n_train + n_test :]),
        "test": np.sort(order[n_train : n_train + n_test]),
    }


class MorphFamily:
    """The shared mesh and base shapes of a family: vertices, clouds and images of any weights."""

    def __init__(self, config: SynthConfig):
        self.config = config.resolved()
        self.directions, self.faces = cube_grid_mesh(self.config.mesh_resolution)
        self.base = base_vertices(
            FAMILIES[self.config.family], self.directions, size=self.config.size, mode=self.config.mode
        )  # (K, V, 3)
        self.extent = float(np.linalg.norm(self.base, axis=-1).max())

    def vertices(self, weights: np.ndarray) -> np.ndarray:
        """(B, V, 3) vertices of the shapes with morph weights (B, K)."""
        return np.einsum("bk,kvd->bvd", weights, self.base)

    def sampler(self, index: int) -> np.random.Generator:
        """The generator of shape ``index``'s cloud (see ``SynthConfig.sampling``)."""
        stream = _COUPLED_STREAM if self.config.sampling == "coupled" else int(index)
        return np.random.default_rng([self.config.seed, stream])

    def clouds(self, weights: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """(B, P, 3) float32 clouds of the shapes with weights (B, K) and base indices (B,)."""
        vertices = self.vertices(weights)
        return np.stack(
            [
                sample_surface(v, self.faces, self.config.n_points, self.sampler(i))
                for v, i in zip(vertices, indices)
            ]
        )

    def dense_clouds(self, weights: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """(B, D, 3) float32 dense evaluation clouds (``config.dense_points`` each), shape ``i`` from
        ``default_rng([seed, 3, i])``: independent of every training cloud and of each other."""
        vertices = self.vertices(weights)
        return np.stack(
            [
                sample_surface(
                    v, self.faces, self.config.dense_points, np.random.default_rng([self.config.seed, 3, i])
                )
                for v, i in zip(vertices, indices)
            ]
        )

    def sample(self, weights: np.ndarray, n_points: int, rng: np.random.Generator) -> np.ndarray:
        """(B, n_points, 3) float32 fresh area-uniform samples of the shapes with weights (B, K),
        all drawn from ``rng`` (for idealised predictors: independent of the dataset's clouds)."""
        return np.stack([sample_surface(v, self.faces, n_points, rng) for v in self.vertices(weights)])

    def images(self, weights: np.ndarray) -> np.ndarray:
        """(B, H, W, 3) uint8 isometric renders, all at the family's common scale."""
        return render_isometric(
            self.vertices(weights), self.faces, image_size=self.config.image_size, extent=self.extent
        )


def generate(config: SynthConfig, *, progress: bool = True) -> Dataset:
    """Generate a base dataset in memory (deterministic for a given config)."""
    family = MorphFamily(config)
    cfg = family.config
    weights = morph_weights(cfg.family, cfg.n_shapes, cfg.seed)
    images = np.empty((cfg.n_shapes, cfg.image_size, cfg.image_size, 3), np.uint8)
    points = np.empty((cfg.n_shapes, cfg.n_points, 3), np.float32)
    dense = np.empty((cfg.n_shapes, cfg.dense_points, 3), np.float32) if cfg.dense_points else None
    with tqdm(total=cfg.n_shapes, disable=not progress, unit="shape", desc=f"synth {cfg.family}") as bar:
        for start in range(0, cfg.n_shapes, _CHUNK):
            index = np.arange(start, min(start + _CHUNK, cfg.n_shapes))
            images[index] = family.images(weights[index])
            points[index] = family.clouds(weights[index], index)
            if dense is not None:
                dense[index] = family.dense_clouds(weights[index], index)
            bar.update(len(index))
    labels = weights.argmax(1).astype(np.int64)  # the nearest base shape
    manifest = {
        "generator": f"svrlens.data.synth/{cfg.family}",
        "parameters": asdict(cfg) | {"base_shapes": list(FAMILIES[cfg.family])},
        "seed": cfg.seed,
    }
    splits = random_splits(cfg.n_shapes, cfg.seed)
    return Dataset(images, points, weights.astype(np.float32), labels, splits, manifest, dense=dense)


def synthesize(config: SynthConfig, out, *, progress: bool = True, overwrite: bool = False):
    """Generate a base dataset and write it to ``out`` (see :mod:`svrlens.data.dataset`)."""
    from pathlib import Path

    from svrlens.errors import InputError

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise InputError("already exists and is not empty (--force replaces it)", out)
    return generate(config, progress=progress).save(out, overwrite=overwrite)


def export_meshes(config: SynthConfig, weights: np.ndarray, out_dir, *, file_format: str = "ply") -> list:
    """Write the meshes of the shapes with morph weights (B, K) as PLY/OBJ files via trimesh."""
    from pathlib import Path

    import trimesh

    if file_format not in ("ply", "obj"):
        raise ValueError(f"format: expected 'ply' or 'obj', found {file_format!r}")
    family = MorphFamily(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, vertices in enumerate(family.vertices(np.atleast_2d(weights))):
        path = out_dir / f"shape_{k:05d}.{file_format}"
        trimesh.Trimesh(vertices, family.faces, process=False).export(path)
        paths.append(path)
    return paths
