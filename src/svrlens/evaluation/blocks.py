"""Large Chamfer matrices in resumable blocks (a diagnosis at ShapeNet scale).

:func:`chamfer_block` is a pure function of the block's row range, so any executor (a loop
here, Ray tasks in the experiments stage) can compute blocks independently.
:func:`cached_chamfer_matrix` makes *every* matrix of a diagnosis resumable: each matrix gets a
directory named by a fingerprint of its inputs, every finished row block is saved atomically, a
re-run computes only the missing or damaged blocks, and blocks of other data are never reused.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from svrlens.errors import InputError
from svrlens.geometry import pairwise_chamfer
from svrlens.io import cannot_write, load_npy, write_json, write_npy


def chamfer_block(a, b, start: int, stop: int, *, device=None, upper: bool = False) -> np.ndarray:
    """Rows ``start:stop`` of the Chamfer matrix of ``a`` (Na, P, 3) × ``b`` (Nb, P', 3):
    (stop − start, Nb). With ``upper`` (``b`` is ``a``: a symmetric matrix), only the columns
    from ``start`` on are computed (the rest of the row is mirrored from earlier blocks) and
    the block is (stop − start, Na − start)."""
    columns = np.asarray(b[start:]) if upper else np.asarray(b)
    return pairwise_chamfer(np.asarray(a[start:stop]), columns, device=device)


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


def assemble_symmetric(blocks: list[tuple[int, int, np.ndarray]], n: int) -> np.ndarray:
    """The (n, n) symmetric matrix from upper row blocks ``(start, stop, (stop − start, n − start))``:
    each pair is taken from the block of its smaller index (exactly symmetric, zero diagonal)."""
    out = np.zeros((n, n), np.float64)
    for start, stop, block in blocks:
        out[start:stop, start:] = block
    upper = np.triu(out, 1)
    return upper + upper.T


def _read_block(path: Path, shape: tuple) -> np.ndarray | None:
    """A saved block, or None where it is missing, unreadable, not float64 (as written) or of the
    wrong shape (recompute)."""
    if not path.is_file():
        return None
    try:
        block = load_npy(path)
    except InputError:
        return None
    if block.dtype != np.float64 or block.shape != shape:
        return None
    return block if np.isfinite(block).all() else None


def blocked_chamfer(
    a, b=None, *, cache_dir=None, block_rows: int = 256, device=None, progress: bool = False
) -> np.ndarray:
    """The Chamfer matrix of ``a`` × ``b`` (``b=None``: ``a`` with itself, upper blocks mirrored),
    computed in row blocks; resumable with ``cache_dir`` (a damaged block is recomputed)."""
    symmetric = b is None
    b = a if symmetric else b
    ranges = block_ranges(len(a), block_rows)
    cache = None if cache_dir is None else Path(cache_dir)
    if cache is not None:
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise cannot_write(cache, error) from None
        stamp = {
            "fingerprint": fingerprint(a, b),
            "block_rows": block_rows,
            "shape": [len(a), len(b)],
            "symmetric": symmetric,
        }
        record = cache / "cache.json"
        try:
            previous = json.loads(record.read_text()) if record.exists() else None
            damaged = previous is not None and (not isinstance(previous, dict) or set(previous) != set(stamp))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            damaged = True
        if damaged:
            # A damaged record cannot vouch for the blocks beside it: recompute them all.
            warnings.warn(f"{record}: unreadable cache record; its blocks are recomputed", stacklevel=2)
            for block in cache.glob("block_*.npy"):
                block.unlink(missing_ok=True)  # another process may be clearing it too
            previous = None
        if previous is not None and previous != stamp:
            raise InputError(
                "holds blocks of other data or another block size; use another cache directory", cache
            )
        if previous is None:
            write_json(record, stamp)
    blocks = []
    for start, stop in tqdm(ranges, disable=not progress, unit="block", desc="Chamfer blocks"):
        shape = (stop - start, len(b) - start if symmetric else len(b))
        path = None if cache is None else cache / f"block_{start:09d}_{stop:09d}.npy"
        block = None if path is None else _read_block(path, shape)
        if block is None:
            block = chamfer_block(a, b, start, stop, device=device, upper=symmetric)
            if path is not None:
                write_npy(path, block)
        blocks.append((start, stop, block))
    if symmetric:
        return assemble_symmetric(blocks, len(a))
    return np.concatenate([block for _, _, block in blocks]) if blocks else np.zeros((0, len(b)))


def cached_chamfer_matrix(cache_dir, *, block_rows: int = 256, device=None, progress: bool = False):
    """A ``chamfer_matrix(a, b=None)`` whose every matrix is computed in resumable blocks under
    ``cache_dir/<fingerprint of a and b>/`` (see :func:`blocked_chamfer`)."""
    root = Path(cache_dir)

    def chamfer_matrix(a, b=None):
        key = fingerprint(a, a if b is None else b) + ("-sym" if b is None else "")  # all 64 digits
        return blocked_chamfer(
            a, b, cache_dir=root / key, block_rows=block_rows, device=device, progress=progress
        )

    return chamfer_matrix
