"""The per-mesh work of :mod:`.build`, run in worker processes: one mesh → its samples, one chunk
of meshes → one shard file.

Randomness: shape ``name`` draws from ``default_rng([seed, key(name), stream])`` (streams 0:
training cloud, 1: dense cloud, 2: views), ``key`` the first 8 bytes of SHA-256(name): a shape's
samples depend on its name and the seed only, not on which other meshes are built, in which
order, or by how many workers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from svrlens.io import atomic_write

from .layouts import MeshEntry
from .meshes import BrokenMesh, extent_of, load_mesh, normalise, up_rotation
from .render import ISOMETRIC_ANGLES, render_view
from .sampling import sample_surface


def name_key(name: str) -> int:
    """A 64-bit integer standing for a name (the first 8 bytes of its SHA-256), for seeding."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def view_angles(config, name: str) -> np.ndarray:
    """(n_views, 2) azimuth and elevation in degrees of a shape's views."""
    if config.views == "isometric":
        return np.array([ISOMETRIC_ANGLES])
    rng = np.random.default_rng([config.seed, name_key(name), 2])
    azimuth = rng.uniform(*config.azimuth, size=config.n_views)
    elevation = rng.uniform(*config.elevation, size=config.n_views)
    return np.stack([azimuth, elevation], 1)


def build_shape(entry: MeshEntry, config) -> dict:
    """One mesh made into its samples (``config`` resolved): ``images`` (V, S, S, 3) uint8,
    ``points`` (P, 3) and ``dense`` (D, 3) float32, ``angles`` (V, 2), ``centre`` (3,) and
    ``scale`` (normalised = (rotated − centre) · scale). Raises :class:`BrokenMesh`."""
    vertices, faces = load_mesh(entry.path)
    vertices, centre, scale = normalise(vertices @ up_rotation(config.up).T, config.normalize)
    key = name_key(entry.name)
    points = sample_surface(vertices, faces, config.n_points, np.random.default_rng([config.seed, key, 0]))
    dense = sample_surface(vertices, faces, config.dense_points, np.random.default_rng([config.seed, key, 1]))
    angles = view_angles(config, entry.name)
    isometric = config.views == "isometric"
    images = np.stack(
        [
            render_view(
                vertices,
                faces,
                azimuth=None if isometric else float(a),
                elevation=None if isometric else float(e),
                image_size=config.image_size,
                extent=extent_of(config.normalize),
                two_sided=True,
            )
            for a, e in angles
        ]
    )
    return {
        "images": images,
        "points": points,
        "dense": dense,
        "angles": angles,
        "centre": centre,
        "scale": scale,
    }


def build_chunk(entries: list[MeshEntry], config, shard: Path, memory_mb: int | None) -> list:
    """Build ``entries`` and save them in ``shard`` (.npz, atomically); returns the reasons (one
    per entry, "" for a mesh built)."""
    shapes, reasons = [], []
    for entry in entries:
        try:
            shapes.append(build_shape(entry, config))
            reasons.append("")
        except BrokenMesh as error:
            reasons.append(error.reason)
        except MemoryError:
            bound = f"the bound of {memory_mb} MiB per worker" if memory_mb else "the memory available"
            reasons.append(f"needs more memory than {bound}")
    size, views = config.image_size, config.n_views
    arrays = {
        "reasons": np.asarray(reasons, dtype=str),
        "images": np.stack([s["images"] for s in shapes])
        if shapes
        else np.zeros((0, views, size, size, 3), np.uint8),
        **{
            key: np.stack([np.asarray(s[key], dtype) for s in shapes])
            if shapes
            else np.zeros((0, *tail), dtype)
            for key, tail, dtype in (
                ("points", (config.n_points, 3), np.float32),
                ("dense", (config.dense_points, 3), np.float32),
                ("angles", (views, 2), np.float64),
                ("centre", (3,), np.float64),
                ("scale", (), np.float64),
            )
        },
    }
    atomic_write(shard, lambda handle: np.savez(handle, **arrays))
    return reasons


def worker_init(memory_mb: int | None) -> None:
    """Each worker: one numba thread (the workers are the parallelism), its data segment bounded."""
    import numba

    numba.set_num_threads(1)
    if memory_mb:
        try:
            import resource

            limit = int(memory_mb) << 20
            _, hard = resource.getrlimit(resource.RLIMIT_DATA)
            resource.setrlimit(
                resource.RLIMIT_DATA, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard)
            )
        except (ImportError, ValueError, OSError):  # not Linux / not permitted: unbounded
            pass


def chunk_task(args) -> tuple[int, list]:
    index, entries, config, shard, memory_mb = args
    return index, build_chunk(entries, config, Path(shard), memory_mb)


def sample_collection(
    root, *, n_points: int = 1024, normalize: str = "box", up: str = "auto", seed: int = 0, progress=False
) -> dict:
    """The training-density cloud of every mesh of a collection, as ``data build`` samples it
    (same loader, checks, up axis, normalisation and seeds: the clouds equal a built dataset's
    ``points`` for the same options), without images or files.

    Returns
    -------
    dict
        ``clouds`` (N, n_points, 3) float32, ``names`` (N,), ``labels`` (N,) int64 indices into
        ``categories``, ``skipped`` [(name, reason)], ``layout`` and ``up`` (resolved).

    Raises
    ------
    InputError
        No meshes, or none that could be read.
    """
    from tqdm.auto import tqdm

    from svrlens.errors import InputError

    from .layouts import LAYOUT_UP, find_meshes

    layout, entries = find_meshes(root)
    up = LAYOUT_UP[layout] if up == "auto" else up
    rotation = up_rotation(up)
    clouds, names, categories, skipped = [], [], [], []
    for entry in tqdm(entries, disable=not progress, unit="mesh", desc="sample meshes"):
        try:
            vertices, faces = load_mesh(entry.path)
        except BrokenMesh as error:
            skipped.append((entry.name, error.reason))
            continue
        vertices, _, _ = normalise(vertices @ rotation.T, normalize)
        rng = np.random.default_rng([seed, name_key(entry.name), 0])
        clouds.append(sample_surface(vertices, faces, n_points, rng))
        names.append(entry.name)
        categories.append(entry.category)
    if not clouds:
        first = f"{skipped[0][0]}: {skipped[0][1]}" if skipped else ""
        raise InputError(f"none of the {len(entries)} meshes could be read (first: {first})", root)
    ordered = sorted(set(categories))
    return {
        "clouds": np.stack(clouds),
        "names": names,
        "labels": np.array([ordered.index(c) for c in categories], np.int64),
        "categories": ordered,
        "skipped": skipped,
        "layout": layout,
        "up": up,
    }
