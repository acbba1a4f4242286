"""Subsampled families that move between the paper's Cases 1, 2 and 3 (sec. 3.2, fig. 3).

Only the *training* split is subsampled; validation and test are the base sets, unchanged.
Every set records how it was drawn: cluster centres, spreads and indices into the base set.

- ``1.1.n`` (Case 3 → Case 2), base #1: 5 clusters × 20 samples around t = 0.1, 0.3, …, 0.9.
  The samples of a cluster are the training shapes nearest to 20 targets evenly spaced over
  [c − wₙ, c + wₙ], wₙ from 0 (the 20 nearest shapes: five tight clusters) to 0.1 (the five
  intervals tile [0, 1]: the transition covered almost continuously).
- ``1.2.n`` (Case 3 → Case 1), base #1: 2 clusters × 10 samples, images from [0, wₙ] and
  [1 − wₙ, 1], wₙ from 0 to 0.5; each image's target cloud is the *end* shape (cube or
  sphere) its shape is nearer to — the same cloud for the whole cluster, so the training
  shapes are always perfectly clustered while the images spread out.
- ``2.1.n`` / ``2.2.n``: the same two designs on base #2's 2-simplex of weights (our design;
  the paper defers it to a supplement we do not have). 2.1: 5 clusters × 20 around the three
  near-corner points (0.8, 0.1, 0.1) (and permutations), the centroid and the cube–sphere edge
  midpoint (0.45, 0.1, 0.45); targets fill a disc of radius rₙ from 0 to 0.3. 2.2: 3 clusters
  × 10, one per base shape, images within distance rₙ (0 → 2/3) of the corner, target = the
  corner's base shape.
"""

from __future__ import annotations

import numpy as np

from svrlens.errors import InputError

from .dataset import Dataset, save_dataset

N_SETS = 7
FAMILY_BASE = {
    "1.1": "cube-sphere",
    "1.2": "cube-sphere",
    "2.1": "cube-pyramid-sphere",
    "2.2": "cube-pyramid-sphere",
    "dispersion-image": "cube-sphere",
    "dispersion-shape": "cube-sphere",
}
# The successor's widest image spread (its cltsize35 files: t from 0 to 0.438 and 0.539 to 0.997).
DISPERSION_SPREAD = 0.45
# Sets per family where it is not N_SETS: the successor's arms have 8 levels (S1I1…S1I8, S1I8…S8I8).
FAMILY_SETS = {"dispersion-image": 8, "dispersion-shape": 8}


def n_sets(family: str) -> int:
    """How many sets ``family.1`` … ``family.n`` the family has (7, or 8 for the ``dispersion-*`` arms)."""
    return FAMILY_SETS.get(family, N_SETS)


def training_shapes_needed(family: str) -> int:
    """How many shapes a family's sets draw from their base's training split (samples per cluster
    × clusters: 100 for 1.1 and 2.1, 20 for 1.2 and the dispersion arms, 30 for 2.2)."""
    centres, per_cluster, _, _ = _design(family)
    return per_cluster * len(centres)


def _design(family: str):
    """(centres in weight space (C, K), samples per cluster, spreads (7,), end-shape targets?)."""
    if family == "1.1":
        t = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
        return np.stack([1 - t, t], 1), 20, np.linspace(0.0, 0.1, N_SETS), False
    if family == "1.2":
        return np.array([[1.0, 0.0], [0.0, 1.0]]), 10, np.linspace(0.0, 0.5, N_SETS), True
    if family == "2.1":
        centres = np.array(
            [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3], [0.45, 0.1, 0.45]]
        )
        return centres, 20, np.linspace(0.0, 0.3, N_SETS), False
    if family == "2.2":
        return np.eye(3), 10, np.linspace(0.0, 2 / 3, N_SETS), True
    if family == "dispersion-image":
        return np.eye(2), 10, np.linspace(0.0, DISPERSION_SPREAD, n_sets(family)), False
    if family == "dispersion-shape":
        return np.eye(2), 10, np.full(n_sets(family), DISPERSION_SPREAD), False
    raise ValueError(f"family: expected one of {sorted(FAMILY_BASE)}, found {family!r}")


def shape_spreads(family: str):
    """(8,) shape spreads of the successor's two-arm design, or None (shapes are the images' own)."""
    if family == "dispersion-image":
        return np.zeros(n_sets(family))
    if family == "dispersion-shape":
        return np.linspace(0.0, DISPERSION_SPREAD, n_sets(family))
    return None


def paired_shapes(morph: np.ndarray, train: np.ndarray, images: np.ndarray, cluster: np.ndarray, family, n):
    """Base indices of the shapes paired with the training images of ``family.n`` (the successor's
    design): the training shape nearest (weight space, with replacement) to ``c + (w_k − c)·s/w``."""
    centres, _, spreads, _ = _design(family)
    shape_spread, image_spread = shape_spreads(family)[n - 1], spreads[n - 1]
    factor = shape_spread / image_spread if image_spread > 0 else 0.0
    targets = centres[cluster] + (morph[images] - centres[cluster]) * factor  # (N, K)
    distance = np.linalg.norm(morph[train][None, :, :] - targets[:, None, :], axis=2)  # (N, T)
    return train[distance.argmin(1)]


def _targets(centre: np.ndarray, spread: float, count: int) -> np.ndarray:
    """``count`` target points in weight space spread evenly around ``centre``.

    Two base shapes: evenly spaced along t over [c − spread, c + spread] ∩ [0, 1] (so the ends
    of 1.2 spread inward only). Three: a sunflower (Vogel) disc of radius ``spread`` in the plane of
    the simplex, clipped to it.
    """
    if centre.shape[0] == 2:
        t = np.linspace(max(0.0, centre[1] - spread), min(1.0, centre[1] + spread), count)
        return np.stack([1 - t, t], 1)
    k = np.arange(count) + 0.5
    radius = spread * np.sqrt(k / count)
    angle = k * np.pi * (3 - np.sqrt(5))
    axis_u = np.array([1.0, -1.0, 0.0]) / np.sqrt(2)
    axis_v = np.array([1.0, 1.0, -2.0]) / np.sqrt(6)
    points = centre + radius[:, None] * (np.cos(angle)[:, None] * axis_u + np.sin(angle)[:, None] * axis_v)
    points = np.clip(points, 0.0, None)
    return points / points.sum(1, keepdims=True)


def draw_indices(morph: np.ndarray, train: np.ndarray, family: str, n: int):
    """Indices (into the base set) of the training samples of set ``family.n`` and their cluster.

    Each target takes the nearest not-yet-taken training shape (Euclidean in weight space).
    """
    centres, per_cluster, spreads, _ = _design(family)
    if not 1 <= n <= n_sets(family):
        raise ValueError(f"set number: expected 1…{n_sets(family)}, found {n}")
    if per_cluster * len(centres) > len(train):
        raise InputError(
            f"base training split: expected ≥ {per_cluster * len(centres)} shapes, found {len(train)}"
        )
    free = np.ones(len(train), bool)
    chosen, cluster = [], []
    for c, centre in enumerate(centres):
        for target in _targets(centre, spreads[n - 1], per_cluster):
            distance = np.linalg.norm(morph[train] - target, axis=1)
            distance[~free] = np.inf
            pick = int(np.argmin(distance))
            free[pick] = False
            chosen.append(train[pick])
            cluster.append(c)
    return np.asarray(chosen, np.int64), np.asarray(cluster, np.int64)


def subsample(base: Dataset, family: str, n: int):
    """Build set ``family.n`` from a base dataset; returns (arrays dict, splits, record)."""
    centres, per_cluster, spreads, end_targets = _design(family)
    if base.morph is None or base.morph.shape[1] != centres.shape[1]:
        found = None if base.morph is None else base.morph.shape[1]
        raise InputError(
            f"family {family} needs morph weights over {centres.shape[1]} base shapes, found {found}",
            base.path,
        )
    morph = np.asarray(base.morph)
    if per_cluster * len(centres) > len(base.splits.get("train", [])):
        raise InputError(
            f"family {family} needs ≥ {per_cluster * len(centres)} training shapes, "
            f"found {len(base.splits.get('train', []))}",
            base.path,
        )
    train, cluster = draw_indices(morph, np.asarray(base.splits["train"]), family, n)
    val, test = np.asarray(base.splits["val"]), np.asarray(base.splits["test"])
    order = np.concatenate([train, val, test])
    points = np.asarray(base.points[order]).copy()
    dense = None if base.dense is None else np.asarray(base.dense[order]).copy()
    labels = np.concatenate(
        [
            cluster,
            np.asarray(base.labels[val]) if base.labels is not None else -np.ones(len(val), np.int64),
            np.asarray(base.labels[test]) if base.labels is not None else -np.ones(len(test), np.int64),
        ]
    )
    record = {
        "family": family,
        "set": f"{family}.{n}",
        "centres": centres.tolist(),
        "spread": float(spreads[n - 1]),
        "samples_per_cluster": per_cluster,
        "base_indices": order.tolist(),
        "train_clusters": cluster.tolist(),
        # The base's own parameters (its SynthConfig): evaluation and calibration rebuild the
        # morph family from them (svrlens.data.synth.MorphFamily).
        "base_generator": base.manifest.get("generator"),
        "base_parameters": base.manifest.get("parameters"),
    }
    if end_targets:
        # The cloud of the base shape itself (the lattice/morph point nearest the corner), shared by
        # the cluster.
        ends = [int(np.argmin(np.linalg.norm(morph - centre, axis=1))) for centre in centres]
        points[: len(train)] = np.asarray(base.points)[np.asarray(ends)[cluster]]
        if dense is not None:
            dense[: len(train)] = np.asarray(base.dense)[np.asarray(ends)[cluster]]
        record["end_shape_indices"] = ends
    shape_weights = morph[train]
    if end_targets:  # the morph weights of each training *shape*: the end shape, not the image's
        shape_weights = morph[np.asarray(record["end_shape_indices"])[cluster]]
    if shape_spreads(family) is not None:
        shapes = paired_shapes(morph, np.asarray(base.splits["train"]), train, cluster, family, n)
        points[: len(train)] = np.asarray(base.points)[shapes]
        if dense is not None:
            dense[: len(train)] = np.asarray(base.dense)[shapes]
        record["shape_spread"] = float(shape_spreads(family)[n - 1])
        record["train_shape_indices"] = shapes.tolist()
        shape_weights = morph[shapes]
    record["train_shape_weights"] = np.asarray(shape_weights, np.float64).round(8).tolist()
    arrays = {
        "images": np.asarray(base.images[order]),
        "points": points,
        "morph": morph[order],
        "labels": labels,
        "dense": dense,
    }
    splits = {
        "train": np.arange(len(train)),
        "val": len(train) + np.arange(len(val)),
        "test": len(train) + len(val) + np.arange(len(test)),
    }
    return arrays, splits, record


def subsampled_dataset(base: Dataset, family: str, n: int) -> Dataset:
    """Set ``family.n`` of ``base`` as an in-memory :class:`Dataset` (no path), with the manifest
    :func:`write_set` would write (generator and the set's record)."""
    arrays, splits, record = subsample(base, family, n)
    manifest = {"generator": f"svrlens.data.subsample/{family}", "parameters": record}
    return Dataset(
        arrays["images"],
        arrays["points"],
        arrays["morph"],
        arrays["labels"],
        splits,
        manifest,
        None,
        arrays["dense"],
    )


def write_set(base: Dataset, family: str, n: int, path, *, overwrite: bool = False):
    """Write set ``family.n`` of ``base`` as a dataset directory at ``path``; returns the path."""
    arrays, splits, record = subsample(base, family, n)
    return save_dataset(
        path,
        arrays["images"],
        arrays["points"],
        morph=arrays["morph"],
        labels=arrays["labels"],
        dense=arrays["dense"],
        splits=splits,
        generator=f"svrlens.data.subsample/{family}",
        parameters={"base": str(base.path), "base_manifest_seed": base.manifest.get("seed"), **record},
        seed=base.manifest.get("seed"),
        overwrite=overwrite,
    )


def write_family(
    base: Dataset, family: str, out_dir, *, overwrite: bool = False, figure: bool = True
) -> list:
    """Write the sets ``out_dir/<family>.1`` … ``<family>.n`` (n = :func:`n_sets`) and, with ``figure``,
    ``out_dir/coverage-<family>.png`` (+ .svg) in the manner of fig. 3; returns the set paths.

    Everything is written into a temporary directory first and moved into place at the end, so
    a failure leaves none of the family behind; sets already there are refused unless
    ``overwrite``.

    Raises
    ------
    InputError
        A base dataset of the wrong kind (named), or sets already in ``out_dir`` (named).
    """
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from svrlens.io import cannot_write

    from .dataset import load_dataset
    from .figures import coverage_figure

    _design(family)  # an unknown family is refused before anything is read
    expected = FAMILY_BASE[family]
    generator = base.manifest.get("generator", "")
    if not str(generator).endswith(expected):
        raise InputError(
            f"family {family}: expected a {expected} base dataset, found generator {generator!r}", base.path
        )
    out_dir = Path(out_dir)
    names = [f"{family}.{n}" for n in range(1, n_sets(family) + 1)]
    present = [out_dir / name for name in names if (out_dir / name).exists()]
    if present and not overwrite:
        raise InputError("already exists (--force replaces the family)", present[0])
    created, done = not out_dir.exists(), False
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{family}.", suffix=".tmp", dir=out_dir))
    except OSError as error:
        raise cannot_write(out_dir, error) from None
    try:
        for n, name in enumerate(names, 1):
            write_set(base, family, n, staging / name)
        if figure:
            coverage_figure(
                {name: load_dataset(staging / name, verify=False) for name in names},
                staging / f"coverage-{family}.png",
                title=f"training-set coverage of the subsampled sets {family}.n",
            )
        for item in sorted(staging.iterdir()):
            target = out_dir / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
        done = True
    except OSError as error:
        raise cannot_write(out_dir, error) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not done:  # nothing of this attempt is left, not even the directory it made
            shutil.rmtree(out_dir, ignore_errors=True)
    return [out_dir / name for name in names]
