"""Validation of precomputed distance matrices and labels (once, at the public boundary), and the
working-memory budget under which every quadratic step of this stage runs.

Like scikit-learn's ``pairwise_distances_chunked``, no step builds an N×N temporary: N×N work
is done in row blocks whose temporaries fit :func:`chunk_budget` — at most
:data:`WORKING_MEMORY` bytes and at most 1/16 of the input matrix (at least one row).
"""

from __future__ import annotations

import sys

import numpy as np

# Bytes of temporaries one block may hold. 4 MiB keeps numpy's per-call overhead negligible
# (a block is ≥ 50 rows up to N = 10,000 in float64) while the claims below stay true.
WORKING_MEMORY = 4 * 2**20


def is_tensor(x) -> bool:
    """Whether ``x`` is a torch tensor, without importing torch.

    A tensor cannot exist unless torch has been imported, so a numpy input never loads it:
    ``svrlens tendency`` on a saved matrix starts without torch's ~1.6 s import.
    """
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def chunk_budget(matrix_bytes: int) -> int:
    """Temporaries allowed per block for an input of ``matrix_bytes``: min(4 MiB, 1/16 of it)."""
    return int(min(WORKING_MEMORY, matrix_bytes // 16))


def row_blocks(n_rows: int, row_bytes: int, matrix_bytes: int):
    """(start, stop) row ranges whose temporaries, ``row_bytes`` per row, fit the budget."""
    step = max(1, chunk_budget(matrix_bytes) // max(1, row_bytes))
    return [(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def nbytes(matrix) -> int:
    """Size in bytes of a numpy array or torch tensor."""
    return matrix.numel() * matrix.element_size() if is_tensor(matrix) else matrix.nbytes


def host(block) -> np.ndarray:
    """A block as a numpy array (copied to the host only when it lives on another device)."""
    return block.detach().cpu().numpy() if is_tensor(block) else np.asarray(block)


def check_distances(distances, *, name: str = "distances", atol: float = 1e-6):
    """Validate a symmetric, non-negative, finite distance matrix with a zero diagonal.

    Returns the input unchanged: a numpy array (no copy) or a torch tensor (kept on its device).
    Symmetry is checked to ``atol`` plus 1e-5 of the largest distance, so float32 matrices
    built from the two directions separately still pass. Every test runs in row blocks over
    the upper triangle: extra memory is at most :func:`chunk_budget` of the matrix's size.

    Raises
    ------
    ValueError
        Not an array, not square, empty, not real, NaN/inf, negative, non-zero diagonal or
        asymmetric; the message states what was expected and what was found.
    """
    tensor = is_tensor(distances)
    if not tensor and not isinstance(distances, np.ndarray):
        raise ValueError(
            f"{name}: expected a numpy.ndarray or torch.Tensor, found {type(distances).__name__}"
        )
    if distances.ndim != 2 or distances.shape[0] != distances.shape[1]:
        raise ValueError(f"{name}: expected a square (N, N) matrix, found shape {tuple(distances.shape)}")
    if distances.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one sample, found an empty matrix")
    d = distances.detach() if tensor else distances
    if tensor and not d.is_floating_point() or not tensor and not np.issubdtype(d.dtype, np.number):
        raise ValueError(f"{name}: expected real numbers, found dtype {d.dtype}")
    n = d.shape[0]
    isfinite = sys.modules["torch"].isfinite if tensor else np.isfinite
    # Differences of integer matrices are taken in float64 (unsigned ones would wrap around).
    exact = tensor or np.issubdtype(d.dtype, np.floating)
    diff_bytes = (d.element_size() if tensor else d.itemsize) if exact else 8
    asym = 0.0
    # Per row: a row of |D − Dᵀ| and two boolean rows (finite, negative).
    for start, stop in row_blocks(n, n * (diff_bytes + 2), nbytes(d)):
        rows = d[start:stop]  # (b, N), a view
        if not bool(isfinite(rows).all()):
            raise ValueError(f"{name}: expected finite distances, found NaN or inf")
        if bool((rows < 0).any()):
            raise ValueError(f"{name}: expected non-negative distances, found minimum {float(d.min()):.3g}")
        # The upper triangle's rows against the matching columns: each pair is compared once.
        if tensor:
            asym = max(asym, float((rows[:, start:] - d[start:, start:stop].T).abs().max()))
        else:
            diff = np.subtract(rows[:, start:], d[start:, start:stop].T, dtype=None if exact else np.float64)
            asym = max(asym, float(np.abs(diff, out=diff).max()))  # (b, N − start)
    diagonal = d.diagonal()
    if bool((diagonal != 0).any()):
        raise ValueError(
            f"{name}: expected a zero diagonal, found {int((diagonal != 0).sum())} non-zero entries "
            f"(max {float(abs(diagonal).max()):.3g})"
        )
    scale = float(d.max()) if n > 1 else 0.0  # a reduction: no temporary
    if asym > atol + 1e-5 * scale:
        raise ValueError(f"{name}: expected a symmetric matrix, found |D - D.T| up to {asym:.3g}")
    return distances


def check_labels(labels, n_samples: int, *, name: str = "labels") -> np.ndarray:
    """Validate one integer cluster label per sample; return them as an int64 numpy array."""
    if is_tensor(labels):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(f"{name}: expected shape ({n_samples},), found {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        if (
            np.issubdtype(labels.dtype, np.floating)
            and np.all(np.isfinite(labels))
            and np.all(labels == np.round(labels))
        ):
            labels = labels.astype(np.int64)
        else:
            raise ValueError(f"{name}: expected integer cluster labels, found dtype {labels.dtype}")
    return labels.astype(np.int64, copy=False)
