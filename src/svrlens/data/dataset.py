"""The dataset format: a directory of ``.npy`` arrays and a ``manifest.json`` with their hashes.

::

    DIR/manifest.json   format version, generator and parameters, seed, counts,
                        "splits": {"train": [...], "val": [...], "test": [...]}, SHA-256 per array
    DIR/images.npy      uint8 (N, H, W, 3)
    DIR/points.npy      float32 (N, P, 3)
    DIR/morph.npy       float32 (N, K) morph weights of the shape in each image (optional)
    DIR/labels.npy      int64 (N,) cluster / class labels, e.g. the nearest base shape (optional)
    DIR/dense.npy       float32 (N, D, 3) a second, independent and denser sample of each shape's
                        surface (D = 4096 by default): the reference that predictions are scored
                        against (see :mod:`svrlens.evaluation.references`) (optional)

Writing goes to a temporary sibling directory that is renamed into place at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from svrlens import __version__
from svrlens.errors import InputError
from svrlens.io import DIRECTORY_MODE, cannot_write, load_npy, numeric_array, read_json

FORMAT_VERSION = 1
ARRAYS = ("images", "points", "morph", "labels", "dense")
SPLITS = ("train", "val", "test")
# Manifest keys beyond the format's own that describe the samples (kept when a dataset is saved again).
EXTRA_KEYS = ("names", "categories", "skipped")


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Dataset:
    """Images, point clouds and optional morph weights / labels / dense clouds, with named splits.

    ``points`` (N, P, 3) are the training clouds; ``dense`` (N, D, 3), when present, an
    independent denser sample of the same surfaces used as the evaluation reference.
    """

    images: np.ndarray
    points: np.ndarray
    morph: np.ndarray | None = None
    labels: np.ndarray | None = None
    splits: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    dense: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write this dataset to a directory (see :func:`save_dataset`; generator, parameters and
        seed come from ``manifest``); returns the path."""
        return save_dataset(
            path,
            self.images,
            self.points,
            morph=self.morph,
            labels=self.labels,
            dense=self.dense,
            splits=self.splits,
            generator=self.manifest["generator"],
            parameters=self.manifest["parameters"],
            seed=self.manifest.get("seed"),
            overwrite=overwrite,
            extra={k: v for k, v in self.manifest.items() if k in EXTRA_KEYS},
        )

    def subset(self, split: str) -> "Dataset":
        """The samples of one split, as a new in-memory Dataset (its split covers everything)."""
        if split not in self.splits:
            raise InputError(f"no split {split!r}; the dataset has {sorted(self.splits)}", self.path)
        index = np.asarray(self.splits[split], np.int64)
        pick = lambda a: None if a is None else np.asarray(a[index])  # noqa: E731
        return Dataset(
            pick(self.images),
            pick(self.points),
            pick(self.morph),
            pick(self.labels),
            {split: np.arange(len(index))},
            self.manifest,
            self.path,
            pick(self.dense),
        )


def _check_arrays(images, points, morph, labels, splits, dense=None):
    n = images.shape[0]
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images: expected uint8 (N, H, W, 3), found {images.dtype} {images.shape}")
    if points.ndim != 3 or points.shape[0] != n or points.shape[-1] != 3:
        raise ValueError(f"points: expected ({n}, P, 3), found {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("points: expected finite coordinates, found NaN or inf")
    if morph is not None and (morph.ndim != 2 or morph.shape[0] != n):
        raise ValueError(f"morph: expected ({n}, K), found {morph.shape}")
    if labels is not None and labels.shape != (n,):
        raise ValueError(f"labels: expected ({n},), found {labels.shape}")
    if dense is not None:
        if dense.ndim != 3 or dense.shape[0] != n or dense.shape[-1] != 3 or dense.shape[1] == 0:
            raise ValueError(f"dense: expected ({n}, D, 3), found {dense.shape}")
        if not np.isfinite(dense).all():
            raise ValueError("dense: expected finite coordinates, found NaN or inf")
    for name, index in splits.items():
        index = np.asarray(index)
        if index.size and (index.min() < 0 or index.max() >= n):
            raise ValueError(
                f"split {name!r}: expected indices in [0, {n}), found {index.min()}..{index.max()}"
            )


def save_dataset(
    path,
    images,
    points,
    *,
    morph=None,
    labels=None,
    dense=None,
    splits,
    generator: str,
    parameters: dict,
    seed,
    overwrite=False,
    extra: dict | None = None,
) -> Path:
    """Write a dataset directory atomically; returns its path. ``extra`` adds keys to the
    manifest (e.g. ``names``, ``categories``)."""
    path = Path(path)
    images = np.ascontiguousarray(images)
    points = np.ascontiguousarray(points, dtype=np.float32)
    morph = None if morph is None else np.ascontiguousarray(morph, dtype=np.float32)
    labels = None if labels is None else np.ascontiguousarray(labels, dtype=np.int64)
    dense = None if dense is None else np.ascontiguousarray(dense, dtype=np.float32)
    _check_arrays(images, points, morph, labels, splits, dense)
    if path.exists() and not path.is_dir():
        raise InputError("exists and is not a directory; use another path", path)
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise InputError("already exists and is not empty (--force replaces it)", path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as error:
        raise cannot_write(path, error) from None
    try:
        hashes = {}
        for name, array in zip(ARRAYS, (images, points, morph, labels, dense)):
            if array is not None:
                np.save(staging / f"{name}.npy", array, allow_pickle=False)
                hashes[f"{name}.npy"] = sha256_of(staging / f"{name}.npy")
        manifest = manifest_of(
            generator=generator,
            parameters=parameters,
            seed=seed,
            shapes={
                "images": images.shape,
                "points": points.shape,
                "dense": None if dense is None else dense.shape,
            },
            splits=splits,
            hashes=hashes,
            extra=extra,
        )
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        publish(staging, path)
    except OSError as error:  # a full disk, no permission: named, and nothing left behind
        shutil.rmtree(staging, ignore_errors=True)
        raise cannot_write(path, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _integers(values) -> bool:
    return isinstance(values, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in values)


def _checked_manifest(manifest, path: Path) -> tuple[dict, dict]:
    """(sha256 table, splits as int64 arrays) of a manifest, every field it is used for checked."""
    if not isinstance(manifest, dict):
        raise InputError(f"expected an object, found {type(manifest).__name__}", path)
    hashes, splits = manifest.get("sha256"), manifest.get("splits")
    if not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values()):
        raise InputError(
            f"sha256: expected an object of file name → hex digest, found {hashes!r}"[:200], path
        )
    if not isinstance(splits, dict):
        raise InputError(f"splits: expected an object of split → indices, found {splits!r}"[:200], path)
    for name, index in splits.items():
        if not _integers(index):
            raise InputError(
                f"splits.{name}: expected a list of integer indices, found {index!r}"[:200], path
            )
    for key in ("generator",):
        if manifest.get(key) is not None and not isinstance(manifest[key], str):
            raise InputError(f"{key}: expected a string, found {manifest[key]!r}", path)
    if manifest.get("parameters") is not None and not isinstance(manifest["parameters"], dict):
        raise InputError(f"parameters: expected an object, found {manifest['parameters']!r}"[:200], path)
    return hashes, {k: np.asarray(v, np.int64) for k, v in splits.items()}


def manifest_of(
    *, generator: str, parameters: dict, seed, shapes: dict, splits: dict, hashes: dict, extra=None
) -> dict:
    """The manifest of a dataset: format version, generator, parameters, seed, counts (from the
    array ``shapes``: images (N, H, W, 3), points (N, P, 3), dense (N, D, 3) or None), splits,
    SHA-256 per file, and the ``extra`` keys."""
    images, points, dense = shapes["images"], shapes["points"], shapes.get("dense")
    return {
        "format_version": FORMAT_VERSION,
        "svrlens_version": __version__,
        "generator": generator,
        "parameters": parameters,
        "seed": seed,
        "counts": {
            "samples": int(images[0]),
            "points": int(points[1]),
            "dense_points": None if dense is None else int(dense[1]),
            "image_size": [int(images[1]), int(images[2])],
            **{k: len(v) for k, v in splits.items()},
        },
        "splits": {k: [int(i) for i in v] for k, v in splits.items()},
        "sha256": hashes,
        **(extra or {}),
    }


def publish(staging: Path, path: Path) -> Path:
    """Rename the finished directory ``staging`` to ``path`` (replacing what is there), so readers
    see the old dataset or the new one, never a half-written one."""
    os.chmod(staging, DIRECTORY_MODE)
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
        os.replace(path, old / path.name)
        os.replace(staging, path)
        shutil.rmtree(old)
    else:
        os.replace(staging, path)
    return path


def load_dataset(path, *, verify: bool = True, mmap: bool = True) -> Dataset:
    """Open a dataset directory; arrays are memory-mapped and (by default) hash-verified.

    Raises
    ------
    InputError
        One line naming the file: missing directory or manifest, unreadable manifest, missing,
        corrupt, truncated or altered array, inconsistent shapes or splits.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(
            "no such dataset directory"
            if not path.exists()
            else "expected a dataset directory, found a file",
            path,
        )
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise InputError("not a svrlens dataset: manifest.json is missing", path)
    manifest = read_json(manifest_path)
    hashes, splits = _checked_manifest(manifest, manifest_path)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"expected format_version {FORMAT_VERSION}, found {manifest.get('format_version')!r}",
            manifest_path,
        )
    arrays = {}
    for name in ARRAYS:
        file = path / f"{name}.npy"
        if f"{name}.npy" not in hashes:
            if name in ("images", "points"):
                raise InputError(f"manifest lists no {name}.npy", manifest_path)
            arrays[name] = None
            continue
        if not file.is_file():
            raise InputError("missing (listed in manifest.json)", file)
        if verify and sha256_of(file) != hashes[f"{name}.npy"]:
            raise InputError(
                "SHA-256 does not match manifest.json: the file is corrupt, truncated or was changed", file
            )
        try:
            arrays[name] = np.load(file, mmap_mode="r", allow_pickle=False) if mmap else load_npy(file)
        except (ValueError, OSError, EOFError):
            load_npy(file)  # raises the InputError that names the file and the problem
            raise
    for name, kinds in (("points", "iuf"), ("morph", "iuf"), ("labels", "iu"), ("dense", "iuf")):
        if arrays[name] is not None:
            numeric_array(arrays[name], path / f"{name}.npy", name, kinds=kinds)
    try:
        _check_arrays(*(arrays[k] for k in ("images", "points", "morph", "labels")), splits, arrays["dense"])
    except ValueError as error:
        raise InputError(str(error), path) from None
    images, points, morph, labels, dense = (arrays[k] for k in ARRAYS)
    return Dataset(images, points, morph, labels, splits, manifest, path, dense)
