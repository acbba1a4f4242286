"""Reading one shape file (mesh or point cloud) into a training cloud and a dense evaluation cloud.

A leaf module: the user-folder reader (:mod:`.folder`), the ShapeNet adapters (:mod:`.shapenet`)
and the predictions reader all use it, and it imports nothing else of svrlens.data.

Two samples of every shape, *independent* of each other (why: :mod:`svrlens.evaluation.references`):

- ``points`` — ``n_points`` (default 1024) area-uniform samples: what a network is trained on
  and what a prediction is compared as;
- ``dense`` — ``dense_points`` (default 4096) further samples: the reference surface that
  predictions and baselines are scored against, so that a 1024-point output is not penalised
  by the truth's own sampling, and the *sampling floor* (the score of a perfect 1024-point
  sample) can be measured.

A mesh gives both by sampling its surface with two seeds. A point cloud with at least
``n_points + dense_points`` points is split into two disjoint random subsets (disjoint subsets of
an i.i.d. sample are independent samples); a smaller cloud gives no dense cloud.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.errors import InputError
from svrlens.io import load_npy, load_npz, numeric_array

SHAPE_SUFFIXES = (".ply", ".obj", ".off", ".npy", ".npz")
DEFAULT_DENSE_POINTS = 4096


def _load_mesh_or_cloud(path: Path):
    """(trimesh.Trimesh with faces and positive area, or None; the vertices otherwise).

    A third-party loader accepts much: the mesh is checked before it is used. Faces that index
    no vertex, and NaN or inf vertices, are errors; a mesh with faces but zero area (read as the
    point cloud of its vertices) and one whose faces use fewer than half of its vertices (only
    the surface is sampled) draw a warning.
    """
    import warnings

    import trimesh

    try:
        loaded = trimesh.load(path, file_type=path.suffix.lower().lstrip("."), force=None, process=False)
        if isinstance(loaded, trimesh.Scene):
            loaded = loaded.to_geometry() if hasattr(loaded, "to_geometry") else loaded.dump(concatenate=True)
    except Exception as error:  # trimesh raises many types for malformed files
        raise InputError(f"not a readable mesh or point cloud ({type(error).__name__})", path) from None
    vertices = np.asarray(getattr(loaded, "vertices", np.zeros((0, 3))))
    faces = np.asarray(getattr(loaded, "faces", np.zeros((0, 3), np.int64)))
    if not isinstance(loaded, trimesh.Trimesh) or len(faces) == 0:
        return None, vertices
    if faces.min() < 0 or faces.max() >= len(vertices):
        bad = int(((faces < 0) | (faces >= len(vertices))).any(1).sum())
        raise InputError(
            f"faces: {bad} of {len(faces)} faces index vertices that do not exist ({len(vertices)} vertices)",
            path,
        )
    if not np.isfinite(vertices).all():
        raise InputError("mesh vertices contain NaN or inf", path)
    if not loaded.area > 0:
        warnings.warn(f"{path}: the mesh has faces but zero area; its vertices are read as a point cloud")
        return None, vertices
    unused = len(vertices) - len(np.unique(faces))
    if unused > len(vertices) / 2:
        warnings.warn(
            f"{path}: {unused} of {len(vertices)} vertices are used by no face; only the surface is sampled"
        )
    return loaded, None


def _checked(cloud, path: Path) -> np.ndarray:
    cloud = numeric_array(np.asarray(cloud), path, "points")
    if cloud.ndim != 2 or cloud.shape[1] != 3 or len(cloud) == 0:
        raise InputError(f"expected points of shape (P, 3) with P ≥ 1, found {cloud.shape}", path)
    cloud = cloud.astype(np.float64)
    if not np.isfinite(cloud).all():
        raise InputError("points contain NaN or inf", path)
    return cloud


def _array_cloud(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        return load_npy(path)
    return load_npz(path, required=("points",))["points"]


def raw_cloud(path: Path, rng: np.random.Generator, mesh_points: int = 1024) -> np.ndarray:
    """Points (P, 3) float64 of a point-cloud file as stored, or ``mesh_points`` area-uniform
    samples of a mesh file (seeded); validated finite and non-empty."""
    path = Path(path)
    if path.suffix.lower() in (".npy", ".npz"):
        return _checked(_array_cloud(path), path)
    mesh, vertices = _load_mesh_or_cloud(path)
    if mesh is None:
        return _checked(vertices, path)
    return _checked(_sample_mesh(mesh, mesh_points, rng), path)


def _sample_mesh(mesh, n: int, rng: np.random.Generator) -> np.ndarray:
    import trimesh

    points, _ = trimesh.sample.sample_surface(mesh, n, seed=int(rng.integers(2**31)))
    return np.asarray(points)


def resample(cloud: np.ndarray, n_points: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """(cloud with exactly n_points, float32; whether it was resampled): a seeded subset when
    shrinking, a draw with replacement when growing."""
    if len(cloud) == n_points:
        return np.asarray(cloud, np.float32), False
    pick = rng.choice(len(cloud), n_points, replace=len(cloud) < n_points)
    return np.asarray(cloud[pick], np.float32), True


def read_cloud(path: Path, n_points: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """(points (n_points, 3) float32, resampled?) from a mesh or a point-cloud file."""
    return resample(raw_cloud(path, rng, n_points), n_points, rng)


def read_shape(
    path: Path, n_points: int, dense_points: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """A shape file as (points (n_points, 3), dense (dense_points, 3) or None, resampled?).

    Parameters
    ----------
    path : Path
        A mesh (``.ply``/``.obj``/``.off`` with faces) or a point cloud (``.npy``, ``.npz`` with
        ``points``, ``.ply`` without faces).
    n_points : int
        Points of the training cloud.
    dense_points : int
        Points of the dense evaluation cloud; 0 gives none.
    rng : numpy.random.Generator
        Seeds every draw (two mesh samplings, or the split of a cloud).

    Returns
    -------
    points : ndarray (n_points, 3) float32
    dense : ndarray (dense_points, 3) float32, or None for a cloud of fewer than
        ``n_points + dense_points`` points (or ``dense_points == 0``)
    resampled : bool
        Whether a point cloud had another size than ``n_points`` and no dense cloud could be cut
        from it, so it was resampled (a subset, or a draw with replacement when too small).

    Raises
    ------
    InputError
        Unreadable file, no points, NaN or inf coordinates (the message names the file).
    """
    path = Path(path)
    if path.suffix.lower() == ".npz":
        stored = _stored_pair(path, n_points, dense_points)
        if stored is not None:
            return stored
    if path.suffix.lower() in (".npy", ".npz"):
        mesh, cloud = None, _checked(_array_cloud(path), path)
    else:
        mesh, vertices = _load_mesh_or_cloud(path)
        cloud = None if mesh is not None else _checked(vertices, path)
    if mesh is not None:
        points = _checked(_sample_mesh(mesh, n_points, rng), path).astype(np.float32)
        dense = None if dense_points == 0 else _sample_mesh(mesh, dense_points, rng).astype(np.float32)
        return points, dense, False
    if dense_points and len(cloud) >= n_points + dense_points:
        order = rng.permutation(len(cloud))
        points = cloud[order[:n_points]].astype(np.float32)
        dense = cloud[order[n_points : n_points + dense_points]].astype(np.float32)
        return points, dense, False
    points, resampled = resample(cloud, n_points, rng)
    return points, None, resampled


def _stored_pair(path: Path, n_points: int, dense_points: int):
    """(points, dense, False) of an ``.npz`` holding both clouds at exactly these sizes (what
    ``svrlens data export`` writes: the dataset's own clouds, so a round trip changes nothing);
    None when it holds no ``dense`` array or other sizes."""
    archive = load_npz(path, required=("points",), optional=("dense",))
    if "dense" not in archive or not dense_points:
        return None
    points, dense = _checked(archive["points"], path), _checked(archive["dense"], path)
    if len(points) != n_points or len(dense) != dense_points:
        return None
    return points.astype(np.float32), dense.astype(np.float32), False


def read_shapes(paths, n_points: int, dense_points: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Read many shape files (see :func:`read_shape`): (points (N, P, 3), dense (N, D, 3) or None).

    Shape ``k`` draws from ``default_rng([seed, k])``. The dense cloud is kept only when every
    shape has one (a mesh, or a cloud of ≥ ``n_points + dense_points`` points); otherwise a
    warning says how many shapes lack one, and evaluation falls back to the training clouds,
    whose sampling floor is then not measured. A warning also counts resampled clouds.
    """
    import warnings

    points, dense, resampled = [], [], 0
    for k, path in enumerate(paths):
        p, d, changed = read_shape(Path(path), n_points, dense_points, np.random.default_rng([seed, k]))
        points.append(p)
        dense.append(d)
        resampled += changed
    if resampled:
        warnings.warn(
            f"{resampled} of {len(points)} shapes had another number of points than {n_points} "
            f"and were resampled (seed {seed})",
            stacklevel=3,
        )
    missing = sum(d is None for d in dense)
    if dense_points and missing:
        warnings.warn(
            f"{missing} of {len(points)} shapes have no dense evaluation cloud (meshes, or clouds of "
            f"≥ {n_points + dense_points} points, give one): the sampling floor is not measured",
            stacklevel=3,
        )
    return np.stack(points), None if missing or not dense_points else np.stack(dense)
