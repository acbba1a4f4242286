"""Large test × train Chamfer matrices in resumable blocks (Oracle-NN at ShapeNet scale).

:func:`chamfer_block` is a pure function of the block's row range, so any executor (a loop
here, Ray tasks in the experiments stage) can compute blocks independently. With a cache
directory, every finished block is saved atomically and a re-run computes only the missing ones;
a fingerprint of the inputs guards against reusing blocks of other data.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from svrlens.errors import InputError
from svrlens.geometry import pairwise_chamfer
from svrlens.io import load_npy, write_json, write_npy


def chamfer_block(a, b, start: int, stop: int, *, device=None) -> np.ndarray:
    """Rows ``start:stop`` of the Chamfer matrix of ``a`` (Na, P, 3) × ``b`` (Nb, P, 3):
    (stop − start, Nb)."""
    return pairwise_chamfer(np.asarray(a[start:stop]), np.asarray(b), device=device)


def block_ranges(n_rows: int, block_rows: int) -> list[tuple[int, int]]:
    if block_rows < 1:
        raise ValueError(f"block_rows: expected ≥ 1, found {block_rows}")
    return [(start, min(start + block_rows, n_rows)) for start in range(0, n_rows, block_rows)]


def fingerprint(a, b) -> str:
    digest = hashlib.sha256()
    for array in (a, b):
        array = np.ascontiguousarray(array, np.float32)
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def blocked_chamfer(
    a, b, *, cache_dir=None, block_rows: int = 256, device=None, progress: bool = False
) -> np.ndarray:
    """The (Na, Nb) Chamfer matrix, computed in row blocks; resumable with ``cache_dir``."""
    ranges = block_ranges(len(a), block_rows)
    cache = None if cache_dir is None else Path(cache_dir)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        stamp = {"fingerprint": fingerprint(a, b), "block_rows": block_rows, "shape": [len(a), len(b)]}
        record = cache / "cache.json"
        if record.exists():
            if json.loads(record.read_text()) != stamp:
                raise InputError(
                    "holds blocks of other data or another block size; use another cache directory", cache
                )
        else:
            write_json(record, stamp)
    out = np.empty((len(a), len(b)), np.float64)
    for start, stop in tqdm(ranges, disable=not progress, unit="block", desc="Chamfer blocks"):
        path = None if cache is None else cache / f"block_{start:09d}_{stop:09d}.npy"
        if path is not None and path.exists():
            out[start:stop] = load_npy(path)
            continue
        out[start:stop] = chamfer_block(a, b, start, stop, device=device)
        if path is not None:
            write_npy(path, out[start:stop])
    return out
