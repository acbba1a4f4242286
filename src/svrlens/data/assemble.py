"""The end of a build (:mod:`.build`): its shards streamed into one dataset directory.

Memory stays at one shard whatever the collection's size: each array is written as an ``.npy``
of known shape block by block, its SHA-256 computed on the way, and the finished directory is
renamed into place (:func:`svrlens.data.dataset.publish`).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np

from svrlens.errors import InputError
from svrlens.io import write_json

from .dataset import manifest_of, publish
from .layouts import MeshEntry
from .mesh_samples import name_key

GENERATOR = "svrlens.data.build"


def splits_of(entries: list[MeshEntry], config) -> dict:
    """Shape index lists per split (over ``entries``, built or not): the layout's split with a
    seeded validation share of each category's train set, else a seeded split per category."""
    out = {"train": [], "val": [], "test": []}
    by_category: dict = {}
    for index, entry in enumerate(entries):
        by_category.setdefault(entry.category, []).append(index)
    for category, members in sorted(by_category.items()):
        rng = np.random.default_rng([config.seed, name_key(category), 3])
        if all(entries[i].split is not None for i in members):
            train = [i for i in members if entries[i].split == "train"]
            order = [train[k] for k in rng.permutation(len(train))]
            n_val = int(round(config.val_fraction * len(train)))
            out["val"] += order[:n_val]
            out["train"] += order[n_val:]
            out["test"] += [i for i in members if entries[i].split == "test"]
            continue
        order = [members[k] for k in rng.permutation(len(members))]
        n_train = max(1, int(round(config.split[0] * len(members))))
        n_val = min(int(round(config.split[1] * len(members))), len(members) - n_train)
        out["train"] += order[:n_train]
        out["val"] += order[n_train : n_train + n_val]
        out["test"] += order[n_train + n_val :]
    return {k: sorted(v) for k, v in out.items()}


class _NpyWriter:
    """An .npy file of known shape written block by block, its SHA-256 computed on the way."""

    def __init__(self, path: Path, shape: tuple, dtype):
        self.dtype, self.expected, self.written = np.dtype(dtype), int(np.prod(shape)), 0
        self.handle, self.digest = open(path, "wb"), hashlib.sha256()
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header,
            {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape},
        )
        self._write(header.getvalue())

    def _write(self, data) -> None:
        self.handle.write(data)
        self.digest.update(data)

    def write(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, self.dtype)
        self.written += block.size
        self._write(memoryview(block).cast("B"))

    def close(self) -> str:
        self.handle.close()
        if self.written != self.expected:
            raise RuntimeError(f"wrote {self.written} values, expected {self.expected}")
        return self.digest.hexdigest()


def _write_arrays(staging: Path, target: Path, config, entries, chunks, n: int, categories: list):
    """The shards streamed into images / points / labels / dense ``.npy`` files of ``n`` samples
    (one shard in memory at a time); returns (SHA-256 per file, per-shape info, view angles)."""
    views, size = config.n_views, config.image_size
    writers = {
        "images": _NpyWriter(target / "images.npy", (n, size, size, 3), np.uint8),
        "points": _NpyWriter(target / "points.npy", (n, config.n_points, 3), np.float32),
        "labels": _NpyWriter(target / "labels.npy", (n,), np.int64),
        "dense": _NpyWriter(target / "dense.npy", (n, config.dense_points, 3), np.float32),
    }
    shapes_info, angles = [], []
    position = 0
    for index, chunk in enumerate(chunks):
        with np.load(staging / "shards" / f"{index:06d}.npz", allow_pickle=False) as shard:
            ok = [k for k, r in zip(chunk, shard["reasons"]) if not r]
            writers["images"].write(shard["images"].reshape(-1, size, size, 3))
            for key in ("points", "dense"):
                writers[key].write(np.repeat(shard[key], views, axis=0))
            labels = np.repeat([categories.index(entries[k].category) for k in ok], views)
            writers["labels"].write(np.asarray(labels, np.int64))
            for j, k in enumerate(ok):
                shapes_info.append(
                    {
                        "name": entries[k].name,
                        "path": entries[k].path,
                        "first_sample": position,
                        "centre": shard["centre"][j].tolist(),
                        "scale": float(shard["scale"][j]),
                    }
                )
                angles += shard["angles"][j].round(6).tolist()
                position += views
    return {f"{key}.npy": writer.close() for key, writer in writers.items()}, shapes_info, angles


def assemble(staging: Path, source: str, config, entries: list, chunks: list, out: Path):
    """Stream the shards into the dataset directory (one shard in memory at a time) and rename
    it to ``out``; returns (shapes built, samples, skipped [(name, reason)])."""
    reasons = []
    for index, _ in enumerate(chunks):
        with np.load(staging / "shards" / f"{index:06d}.npz", allow_pickle=False) as shard:
            reasons += [str(r) for r in shard["reasons"]]
    built = [k for k, r in enumerate(reasons) if not r]
    skipped = [(entries[k].name, entries[k].path, r) for k, r in enumerate(reasons) if r]
    if not built:
        first = f"{skipped[0][0]}: {skipped[0][2]}" if skipped else "none planned"
        raise InputError(f"none of the {len(entries)} meshes could be built (first: {first})", source)
    views, size = config.n_views, config.image_size
    n = len(built) * views
    target = staging / "dataset"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    categories = sorted({entries[k].category for k in built})
    hashes, shapes_info, angles = _write_arrays(staging, target, config, entries, chunks, n, categories)
    sample_of_shape = {k: i for i, k in enumerate(built)}
    splits = {
        name: [sample_of_shape[k] * views + v for k in members if k in sample_of_shape for v in range(views)]
        for name, members in splits_of(entries, config).items()
    }
    names = [f"{entries[k].name}/{v}" if views > 1 else entries[k].name for k in built for v in range(views)]
    shapes = {
        "images": (n, size, size, 3),
        "points": (n, config.n_points, 3),
        "dense": (n, config.dense_points, 3),
    }
    manifest = manifest_of(
        generator=GENERATOR,
        parameters=config.to_dict() | {"source": source},
        seed=config.seed,
        shapes=shapes,
        splits=splits,
        hashes=hashes,
        extra={
            "names": names,
            "categories": categories,
            "skipped": [{"name": name, "path": path, "reason": reason} for name, path, reason in skipped],
        },
    )
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    write_json(target / "build.json", {"view_angles_degrees": angles, "shapes": shapes_info})
    publish(target, out)
    return len(built), n, [(name, reason) for name, _, reason in skipped]
