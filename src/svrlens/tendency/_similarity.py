"""Similarities for affinity propagation: S = −D with tie-breaking noise, duplicates, final labels.

Every N×N step here runs in row blocks under the stage's working-memory budget
(:func:`._checks.chunk_budget`): the only N×N array this module allocates is S itself.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ._checks import host, is_tensor, nbytes, row_blocks

# Up to this N the median similarity is exact; above it, estimated from sampled entries.
_EXACT_MEDIAN_MAX_N = 4096
_MEDIAN_SAMPLES = 2_000_000


def median_similarity(distances, rng) -> float:
    """Median of S = −D over all N² entries, diagonal zeros included (scikit-learn's default).

    Exact (equal to ``-np.median(D)``) up to N = 4096, without copying D; above, the median of
    2·10⁶ entries drawn uniformly with replacement by ``rng``: the quantile it hits is 0.5 within
    ±0.001 with 99.7 % probability (its standard error is 0.5/√(2·10⁶) = 0.00035).
    """
    n = distances.shape[0]
    if n <= _EXACT_MEDIAN_MAX_N:
        return -_exact_median(distances)
    i = rng.integers(0, n, _MEDIAN_SAMPLES)
    j = rng.integers(0, n, _MEDIAN_SAMPLES)
    if is_tensor(distances):
        i, j = (sys.modules["torch"].as_tensor(k, device=distances.device) for k in (i, j))
    sample = host(distances[i, j])
    return float(-np.median(np.asarray(sample, dtype=np.float64)))


def _exact_median(d) -> float:
    """``np.median`` of all entries of ``d`` (N, N) in float64, in row blocks instead of a copy.

    A strided sample brackets the median by two values [lo, hi]; one pass over the blocks
    counts the entries below lo, at most lo and at most hi, and keeps those strictly between (a
    few percent of them); the two middle entries are then read off the sorted survivors. If the
    bracket misses, it widens, finally to (−inf, inf), which keeps every entry (adversarial
    inputs only). The result is bitwise ``np.median(np.asarray(d, np.float64))``.
    """
    n = d.shape[0]
    total = n * n
    ranks = ((total - 1) // 2, total // 2)  # the middle entries (the same one when N² is odd)
    stride = max(1, n // 256)
    sample = np.sort(host(d[::stride, ::stride]).astype(np.float64).ravel())
    blocks = row_blocks(n, n * (3 + 8), nbytes(d))  # three boolean rows (and a host copy)
    for half_width in (0.02, 0.08, 0.32, None):
        if half_width is None:
            lo, hi = -np.inf, np.inf
        else:
            lo = sample[int((0.5 - half_width) * (sample.size - 1))]
            hi = sample[int(np.ceil((0.5 + half_width) * (sample.size - 1)))]
        n_lt_lo = n_le_lo = n_le_hi = 0
        inner = []
        for start, stop in blocks:
            rows = host(d[start:stop])
            n_lt_lo += int(np.count_nonzero(rows < lo))
            n_le_lo += int(np.count_nonzero(rows <= lo))
            n_le_hi += int(np.count_nonzero(rows <= hi))
            inner.append(rows[(rows > lo) & (rows < hi)].astype(np.float64))
        if n_lt_lo <= ranks[0] and ranks[1] < n_le_hi:  # both middle ranks fall in [lo, hi]
            between = np.sort(np.concatenate(inner))
            # In sorted order: n_lt_lo entries below lo, copies of lo up to rank n_le_lo, then
            # ``between``, then copies of hi up to rank n_le_hi.
            low, high = (
                lo if r < n_le_lo else between[r - n_le_lo] if r - n_le_lo < between.size else hi
                for r in ranks
            )
            return float((np.float64(low) + np.float64(high)) / 2)
    raise AssertionError("unreachable: the last bracket holds every entry")  # pragma: no cover


def similarities(distances, dtype: str, device, random_state):
    """S = −D in ``dtype`` ("float32" or "float64") with scikit-learn's tie-breaking noise, built
    block by block: a numpy array when ``device`` is "cpu" (or ``torch.device("cpu")``), else a
    tensor on ``device``.

    Returns (S, median similarity, diagonal noise). The noise ``(eps·S + 100·tiny)·N(0, 1)`` is
    scikit-learn's, drawn from a seeded generator; it only breaks exact ties (e.g. duplicated
    samples). scikit-learn adds it *after* placing the preference on the diagonal, so the
    standard normals of the diagonal are returned and applied to every preference (without
    them, identical samples have identical self-similarities and the messages oscillate).
    In float32, the diagonal and zero distances (duplicated samples) get a floor of
    ``eps·|median|`` instead of ``100·tiny``: a 1e-36 nudge vanishes in float32 arithmetic on
    messages of size ~|median|, and the duplicates' messages then oscillate (measured: 1 seed
    in 12 never converges on two triples of duplicates). Other entries get scikit-learn's noise.
    The noise does not depend on the block size (normals are drawn row after row).
    """
    n = distances.shape[0]
    rng = np.random.default_rng(random_state)
    median = median_similarity(distances, rng)
    np_dtype = np.dtype(dtype).type
    eps, tiny = np.finfo(np_dtype).eps, np.finfo(np_dtype).tiny
    duplicate_floor = eps * abs(median) if np_dtype == np.float32 else 0.0
    # Per row: the row of −D, its noise, its scale and their product, in ``dtype``; one bool row.
    blocks = row_blocks(n, n * (4 * np.dtype(np_dtype).itemsize + 1), nbytes(distances))
    if getattr(device, "type", device) == "cpu":  # "cpu" (a host array) or torch.device("cpu")
        S = np.empty((n, n), np_dtype)
        for start, stop in blocks:
            block = -np.asarray(host(distances[start:stop]), dtype=np_dtype)
            noise = rng.standard_normal(block.shape, dtype=np_dtype)
            scale = eps * block + tiny * 100
            if duplicate_floor:
                scale[block == 0] = duplicate_floor
            S[start:stop] = block + scale * noise
        return S, median, _DiagonalNoise(rng.standard_normal(n), eps, tiny * 100 + duplicate_floor)
    import torch

    dtype = getattr(torch, dtype)
    S = torch.empty((n, n), dtype=dtype, device=device)
    generator = torch.Generator(device=device).manual_seed(int(rng.integers(2**62)))
    for start, stop in blocks:
        block = -torch.as_tensor(distances[start:stop], device=device).to(dtype)
        noise = torch.randn(block.shape, generator=generator, device=device, dtype=dtype)
        scale = eps * block + tiny * 100
        if duplicate_floor:
            scale[block == 0] = duplicate_floor
        S[start:stop] = block + scale * noise
    return S, median, _DiagonalNoise(rng.standard_normal(n), eps, tiny * 100 + duplicate_floor)


@dataclass
class _DiagonalNoise:
    normals: np.ndarray
    eps: float
    floor: float

    def diagonal(self, preference: float) -> np.ndarray:
        """The self-similarities for ``preference``, with scikit-learn's noise."""
        return preference + (self.eps * preference + self.floor) * self.normals


def _column_sums(S, members: np.ndarray) -> np.ndarray:
    """``S[np.ix_(members, members)].sum(0, dtype=float64)`` without the (M, M) copy.

    Rows are added one after another into a float64 accumulator, as numpy's axis-0 sum does,
    so the sums are bitwise those of the one-shot expression.
    """
    total = np.zeros(members.size, np.float64)
    for start, stop in row_blocks(members.size, members.size * 8, nbytes(S)):
        for row in _submatrix(S, members[start:stop], members):  # (b, M)
            total += row
    return total


def _submatrix(S, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``S[np.ix_(rows, cols)]`` as a numpy array, for a numpy S or a torch S on any device."""
    if is_tensor(S):
        r, c = (sys.modules["torch"].as_tensor(k, device=S.device) for k in (rows, cols))
        return host(S[r[:, None], c[None, :]])
    return S[np.ix_(rows, cols)]


def labels_from_exemplars(S, exemplars: np.ndarray):
    """scikit-learn's final assignment and exemplar refinement, on the (noisy) similarities."""
    every = np.arange(S.shape[0])
    centres = np.flatnonzero(exemplars)
    k = centres.size
    c = np.argmax(_submatrix(S, every, centres), axis=1)  # (N, K)
    c[centres] = np.arange(k)
    for cluster in range(k):
        members = np.flatnonzero(c == cluster)
        centres[cluster] = members[np.argmax(_column_sums(S, members))]
    c = np.argmax(_submatrix(S, every, centres), axis=1)
    c[centres] = np.arange(k)
    labels = centres[c]
    centres = np.unique(labels)
    return np.searchsorted(centres, labels), centres


def collapse_duplicates(distances):
    """Groups of exact duplicates (distance 0, transitively): (representatives, inverse) or None.

    A recognising network emits exact copies of a few shapes; AP's messages between exact
    duplicates are ties that oscillate (measured: 200 copies of two clouds, K = 44, no
    convergence). Duplicates belong to one cluster whatever the clustering, so AP runs on one
    representative per group and the labels are broadcast back. The zeros are found in row
    blocks (no N×N boolean array).
    """
    n = distances.shape[0]
    rows, cols = [], []
    for start, stop in row_blocks(n, n, nbytes(distances)):  # one boolean row per row
        r, c = np.nonzero(host(distances[start:stop]) == 0)
        off = r + start != c  # the diagonal is always zero
        rows.append(r[off] + start)
        cols.append(c[off])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    if rows.size == 0:
        return None
    # Imported only when there are duplicates: scipy.sparse costs ~0.1-0.2 s of a command's start.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n_groups, group = connected_components(
        coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n)), directed=False
    )
    representatives = np.array([np.flatnonzero(group == g)[0] for g in range(n_groups)])
    return representatives, group


def off_diagonal_constant(distances):
    """The common off-diagonal distance if all are equal (N ≥ 2), else None; in row blocks."""
    n = distances.shape[0]
    if n < 2:
        return None
    value = float(distances[0, 1])
    for start, stop in row_blocks(n, n, nbytes(distances)):  # one boolean row per row
        equal = host(distances[start:stop]) == value  # (b, N)
        equal[np.arange(stop - start), np.arange(start, stop)] = True  # the diagonal does not count
        if not equal.all():
            return None
    return value
