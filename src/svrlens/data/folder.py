"""Bring your own data: a folder of images and shapes matched by name.

::

    DIR/images/NAME.png          one image per sample (any size, all the same; RGBA is composited on white;
                                 suffixes in any case, .PNG too)
    DIR/shapes/NAME.ply|obj|off  a mesh (sampled to ``n_points`` area-uniform points, seeded) or a
                                 point cloud (.ply without faces)
    DIR/shapes/NAME.npy          a point cloud (P, 3)
    DIR/shapes/NAME.npz          a point cloud in the array 'points' (P, 3), and optionally its dense
                                 evaluation cloud in 'dense' (D, 3), both used as they are when
                                 P = n_points and D = dense_points (``svrlens data export`` writes these)
    DIR/split.json               optional {"train": [NAME…], "val": […], "test": […]};
                                 without it every sample is in "train" and in "test"
    DIR/labels.json              optional {NAME: label}, labels all int or all str (strings are
                                 numbered in sorted order)

A split lists each name once; a sample in both train and test, a shape without an image and a
file in images/ that is not a PNG each draw a warning.

A mesh is sampled twice, independently: ``n_points`` training points and ``dense_points`` (4096)
points of the dense evaluation cloud that predictions are scored against. A point cloud of at
least ``n_points + dense_points`` points is split into both; a smaller one is resampled to
``n_points`` (seeded, without replacement when shrinking, with replacement when growing) and
gives no dense cloud; warnings say how many (:mod:`svrlens.data.clouds`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from svrlens.errors import InputError
from svrlens.io import files_with_suffix, read_image, read_json

from .clouds import DEFAULT_DENSE_POINTS, SHAPE_SUFFIXES, read_shapes
from .dataset import SPLITS, Dataset, sha256_of


def _folder_digest(root: Path, files: list[Path]) -> str:
    """SHA-256 over (relative path, file SHA-256) of ``files`` and the folder's split/labels files."""
    files = files + [root / name for name in ("split.json", "labels.json") if (root / name).exists()]
    digest = hashlib.sha256()
    for file in sorted(files):
        digest.update(f"{file.relative_to(root).as_posix()}\0{sha256_of(file)}\n".encode())
    return digest.hexdigest()


def load_folder(
    path, *, n_points: int = 1024, dense_points: int = DEFAULT_DENSE_POINTS, seed: int = 0
) -> Dataset:
    """Read a user folder (see the module docstring) into an in-memory :class:`Dataset`.

    Each shape gives a training cloud of ``n_points`` and, where it can, an independent dense
    evaluation cloud of ``dense_points`` (see :func:`svrlens.data.clouds.read_shape`).
    """
    path = Path(path)
    images_dir, shapes_dir = path / "images", path / "shapes"
    if not images_dir.is_dir() or not shapes_dir.is_dir():
        raise InputError(
            "expected a dataset directory (manifest.json) or a folder with images/ and shapes/", path
        )
    image_files = {p.stem: p for p in files_with_suffix(images_dir, ".png")}
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
    _warn_unused(images_dir, image_files, shapes_dir, shape_files)
    names = sorted(image_files)
    images = [read_image(image_files[n]) for n in names]
    for name, image in zip(names, images):
        if image.shape != images[0].shape:
            raise InputError(
                f"expected every image to be {images[0].shape[1]}x{images[0].shape[0]} like {names[0]}.png, "
                f"found {image.shape[1]}x{image.shape[0]}",
                image_files[name],
            )
    clouds, dense = read_shapes([shape_files[n] for n in names], n_points, dense_points, seed)
    position = {n: k for k, n in enumerate(names)}
    splits = {"train": np.arange(len(names)), "test": np.arange(len(names))}
    split_file = path / "split.json"
    if split_file.exists():
        splits = _declared_splits(split_file, position)
    labels = _declared_labels(path / "labels.json", names)
    manifest = {
        "generator": "user folder",
        # one digest of every file read, so provenance names the exact data (as datasets' hashes do)
        "sha256": {
            "folder": _folder_digest(path, [image_files[n] for n in names] + [shape_files[n] for n in names])
        },
        "names": names,
        "parameters": {"n_points": n_points, "dense_points": dense_points, "seed": seed},
        "seed": seed,
    }
    return Dataset(np.stack(images), clouds, None, labels, splits, manifest, path, dense=dense)


def _warn_unused(images_dir: Path, image_files: dict, shapes_dir: Path, shape_files: dict) -> None:
    """A word for every file that is not read: shapes without an image, images not in PNG."""
    import warnings

    orphans = sorted(set(shape_files) - set(image_files))
    if orphans:
        warnings.warn(
            f"{shapes_dir}: {len(orphans)} shapes have no image and are not read (first: {orphans[0]!r})",
            stacklevel=3,
        )
    others = sorted(p.name for p in images_dir.iterdir() if p.is_file() and p.suffix.lower() != ".png")
    if others:
        warnings.warn(
            f"{images_dir}: {len(others)} files are not PNG images and are not read (first: {others[0]!r})",
            stacklevel=3,
        )


def _declared_splits(split_file: Path, position: dict) -> dict:
    """split.json as {split: int64 indices}: each value a list of sample names, none repeated
    within a split; a sample in both train and test draws a warning (the test then measures
    memory, not generalisation)."""
    import warnings

    declared = read_json(split_file)
    if not isinstance(declared, dict) or not set(declared) <= set(SPLITS):
        raise InputError(
            f"expected an object with keys among {SPLITS}, found {type(declared).__name__} "
            f"{sorted(declared) if isinstance(declared, dict) else ''}",
            split_file,
        )
    for split, members in declared.items():
        if not isinstance(members, list) or not all(isinstance(n, str) for n in members):
            raise InputError(
                f"{split}: expected a list of sample names (strings), found {members!r}"[:200], split_file
            )
        repeated = sorted({n for n in members if members.count(n) > 1})
        if repeated:
            raise InputError(f"{split}: the name {repeated[0]!r} appears more than once", split_file)
    unknown = [n for members in declared.values() for n in members if n not in position]
    if unknown:
        raise InputError(f"names without an image: {unknown[:3]}", split_file)
    shared = sorted(set(declared.get("train", [])) & set(declared.get("test", [])))
    if shared:
        warnings.warn(
            f"{split_file}: {len(shared)} samples are in both train and test (first: {shared[0]!r})",
            stacklevel=3,
        )
    return {k: np.asarray([position[n] for n in v], np.int64) for k, v in declared.items()}


def _declared_labels(label_file: Path, names: list) -> np.ndarray | None:
    """labels.json as int64 (N,): integer labels kept, string labels numbered in sorted order;
    any other value (a list, an object, a number with a fraction, a boolean) is refused."""
    if not label_file.exists():
        return None
    declared = read_json(label_file)
    if not isinstance(declared, dict):
        raise InputError(f"expected an object {{NAME: label}}, found {type(declared).__name__}", label_file)
    missing = [n for n in names if n not in declared]
    if missing:
        raise InputError(f"no label for {len(missing)} samples (first: {missing[0]!r})", label_file)
    values = [declared[n] for n in names]
    for name, value in zip(names, values):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise InputError(
                f"{name}: expected an integer or a string label, found {value!r}"[:200], label_file
            )
    if all(isinstance(v, int) for v in values):
        return np.asarray(values, np.int64)
    if not all(isinstance(v, str) for v in values):
        raise InputError("expected labels all integers or all strings, found both", label_file)
    classes = sorted(set(values))
    return np.asarray([classes.index(v) for v in values], np.int64)


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
