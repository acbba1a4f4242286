"""Bring your own data: a folder of images and shapes matched by name.

::

    DIR/images/NAME.png          one image per sample (any size, all the same; RGBA is composited on white)
    DIR/shapes/NAME.ply|obj|off  a mesh (sampled to ``n_points`` area-uniform points, seeded) or a
                                 point cloud (.ply without faces)
    DIR/shapes/NAME.npy          a point cloud (P, 3)
    DIR/shapes/NAME.npz          a point cloud in the array 'points' (P, 3)
    DIR/split.json               optional {"train": [NAME…], "val": […], "test": […]};
                                 without it every sample is in "train" and in "test"
    DIR/labels.json              optional {NAME: label}, labels int or str (strings are numbered
                                 in sorted order)

Point clouds with another number of points than ``n_points`` are resampled (seeded, without
replacement when shrinking, with replacement when growing) and a warning says how many.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from svrlens.errors import InputError
from svrlens.io import load_npy, read_image, read_json

from .dataset import SPLITS, Dataset

SHAPE_SUFFIXES = (".ply", ".obj", ".off", ".npy", ".npz")


def raw_cloud(path: Path, rng: np.random.Generator, mesh_points: int = 1024) -> np.ndarray:
    """Points (P, 3) float64 of a point-cloud file as stored, or ``mesh_points`` area-uniform
    samples of a mesh file (seeded); validated finite and non-empty."""
    if path.suffix == ".npy":
        cloud = load_npy(path)
    elif path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                if "points" not in archive.files:
                    raise InputError(f"expected an array 'points', found {archive.files}", path)
                cloud = archive["points"]
        except InputError:
            raise
        except Exception as error:
            raise InputError(f"not a readable .npz ({type(error).__name__})", path) from None
    else:
        import trimesh

        try:
            loaded = trimesh.load(path, force=None, process=False)
        except Exception as error:
            raise InputError(f"not a readable mesh or point cloud ({type(error).__name__})", path) from None
        if isinstance(loaded, trimesh.Scene):
            loaded = loaded.to_geometry() if hasattr(loaded, "to_geometry") else loaded.dump(concatenate=True)
        if isinstance(loaded, trimesh.Trimesh) and len(loaded.faces) and loaded.area > 0:
            points, _ = trimesh.sample.sample_surface(loaded, mesh_points, seed=int(rng.integers(2**31)))
            cloud = np.asarray(points)
        else:
            cloud = np.asarray(getattr(loaded, "vertices", np.zeros((0, 3))))
    cloud = np.asarray(cloud, np.float64)
    if cloud.ndim != 2 or cloud.shape[1] != 3 or len(cloud) == 0:
        raise InputError(f"expected points of shape (P, 3) with P ≥ 1, found {cloud.shape}", path)
    if not np.isfinite(cloud).all():
        raise InputError("points contain NaN or inf", path)
    return cloud


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


def load_folder(path, *, n_points: int = 1024, seed: int = 0) -> Dataset:
    """Read a user folder (see the module docstring) into an in-memory :class:`Dataset`."""
    path = Path(path)
    images_dir, shapes_dir = path / "images", path / "shapes"
    if not images_dir.is_dir() or not shapes_dir.is_dir():
        raise InputError(
            "expected a dataset directory (manifest.json) or a folder with images/ and shapes/", path
        )
    image_files = {p.stem: p for p in sorted(images_dir.glob("*.png"))}
    shape_files = {}
    for p in sorted(shapes_dir.iterdir()):
        if p.suffix.lower() in SHAPE_SUFFIXES:
            if p.stem in shape_files:
                raise InputError(f"two shapes for {p.stem!r}: {shape_files[p.stem].name} and {p.name}", p)
            shape_files[p.stem] = p
    if not image_files:
        raise InputError("no *.png images", images_dir)
    missing_shapes = sorted(set(image_files) - set(shape_files))
    if missing_shapes:
        raise InputError(
            f"no shape for {len(missing_shapes)} images (first: {missing_shapes[0]!r}; "
            f"expected shapes/{missing_shapes[0]}.ply|obj|off|npy|npz)",
            shapes_dir,
        )
    names = sorted(image_files)
    images = [read_image(image_files[n]) for n in names]
    for name, image in zip(names, images):
        if image.shape != images[0].shape:
            raise InputError(
                f"expected every image to be {images[0].shape[1]}x{images[0].shape[0]} like {names[0]}.png, "
                f"found {image.shape[1]}x{image.shape[0]}",
                image_files[name],
            )
    clouds, resampled = zip(
        *(read_cloud(shape_files[n], n_points, np.random.default_rng([seed, k])) for k, n in enumerate(names))
    )
    if any(resampled):
        warnings.warn(
            f"{sum(resampled)} of {len(names)} shapes had another number of points than {n_points} "
            f"and were resampled (seed {seed})",
            stacklevel=2,
        )
    position = {n: k for k, n in enumerate(names)}
    splits = {"train": np.arange(len(names)), "test": np.arange(len(names))}
    split_file = path / "split.json"
    if split_file.exists():
        declared = read_json(split_file)
        if not isinstance(declared, dict) or not set(declared) <= set(SPLITS):
            raise InputError(
                f"expected an object with keys among {SPLITS}, found {type(declared).__name__} "
                f"{sorted(declared) if isinstance(declared, dict) else ''}",
                split_file,
            )
        unknown = [n for names_ in declared.values() for n in names_ if n not in position]
        if unknown:
            raise InputError(f"names without an image: {unknown[:3]}", split_file)
        splits = {k: np.asarray([position[n] for n in v], np.int64) for k, v in declared.items()}
    labels = None
    label_file = path / "labels.json"
    if label_file.exists():
        declared = read_json(label_file)
        if not isinstance(declared, dict):
            raise InputError(
                f"expected an object {{NAME: label}}, found {type(declared).__name__}", label_file
            )
        missing = [n for n in names if n not in declared]
        if missing:
            raise InputError(f"no label for {len(missing)} samples (first: {missing[0]!r})", label_file)
        values = [declared[n] for n in names]
        if all(isinstance(v, int) for v in values):
            labels = np.asarray(values, np.int64)
        else:
            classes = sorted({str(v) for v in values})
            labels = np.asarray([classes.index(str(v)) for v in values], np.int64)
    manifest = {
        "generator": "user folder",
        "names": names,
        "parameters": {"n_points": n_points, "seed": seed},
        "seed": seed,
    }
    return Dataset(np.stack(images), np.stack(clouds), None, labels, splits, manifest, path)


def open_dataset(path, **options) -> Dataset:
    """A svrlens dataset directory (manifest.json), a user folder (images/ + shapes/), or a What3D
    or Occupancy Networks folder (see :mod:`svrlens.data.shapenet`)."""
    from .dataset import load_dataset
    from .shapenet import detect_layout, load_onet, load_what3d

    path = Path(path)
    if (path / "manifest.json").exists():
        return load_dataset(path)
    if (path / "images").is_dir():
        return load_folder(path, **options)
    layout = detect_layout(path) if path.is_dir() else None
    if layout == "what3d":
        return load_what3d(path, **options)
    if layout == "onet":
        return load_onet(path, **options)
    return load_dataset(path)  # its error names what is missing
