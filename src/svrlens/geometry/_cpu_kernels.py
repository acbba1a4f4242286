"""Fused nearest-neighbour kernels for the CPU (numba).

Clouds arrive in structure-of-arrays layout ``(N, 3, P)`` so the inner loop over points reads
three contiguous rows and vectorises. Distances are formed from coordinate differences,
never as ``|x|² + |y|² − 2x·y``: that GEMM form cancels catastrophically for near-duplicate
points (a 1e-4 gap reads as 0 or negative in float32).

``_fmin`` is LLVM's ``minnum`` (see :mod:`svrlens._llvm`): numba's own ``min`` does not
vectorise as a reduction, ``minnum`` does (~35× here). Inputs are validated finite first.
Minima start at +inf, which is why the fast-math flags (:data:`svrlens._llvm.FAST`) exclude
``ninf``: with it, comparing against that starting value would be undefined behaviour.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from svrlens._llvm import FAST
from svrlens._llvm import fmin as _fmin

_FAST = FAST

# Pairs are handed to threads in chunks; more chunks than threads balances ragged work.
_CHUNKS_PER_THREAD = 8


def n_chunks(n_pairs: int) -> int:
    """How many chunks to split ``n_pairs`` into (passed in: numba cannot cache a kernel
    that asks for the thread count itself)."""
    return max(1, min(n_pairs, numba.get_num_threads() * _CHUNKS_PER_THREAD))


@njit(fastmath=_FAST, inline="always", cache=True)
def _pair_sq_minima(x, nx, y, ny, rowmin, colmin):
    """Squared nearest-neighbour distances in both directions, in one pass.

    x: (3, >=nx) and y: (3, >=ny) SoA clouds; writes rowmin[:nx] (x→y) and colmin[:ny] (y→x).
    Four points of x are held in registers while the loop sweeps y; each y distance feeds
    the four running row minima and, through a min tree, the column minimum of that y.
    """
    colmin[0] = np.inf
    inf = colmin[0]  # typed like the arrays, so float32 stays float32
    for j in range(ny):
        colmin[j] = inf
    i = 0
    while i + 4 <= nx:
        a0 = x[0, i]
        a1 = x[1, i]
        a2 = x[2, i]  # noqa: E702
        b0 = x[0, i + 1]
        b1 = x[1, i + 1]
        b2 = x[2, i + 1]  # noqa: E702
        c0 = x[0, i + 2]
        c1 = x[1, i + 2]
        c2 = x[2, i + 2]  # noqa: E702
        d0 = x[0, i + 3]
        d1 = x[1, i + 3]
        d2 = x[2, i + 3]  # noqa: E702
        ra = inf
        rb = inf
        rc = inf
        rd = inf  # noqa: E702
        for j in range(ny):
            y0 = y[0, j]
            y1 = y[1, j]
            y2 = y[2, j]  # noqa: E702
            t0 = a0 - y0
            t1 = a1 - y1
            t2 = a2 - y2  # noqa: E702
            da = t0 * t0 + t1 * t1 + t2 * t2
            t0 = b0 - y0
            t1 = b1 - y1
            t2 = b2 - y2  # noqa: E702
            db = t0 * t0 + t1 * t1 + t2 * t2
            t0 = c0 - y0
            t1 = c1 - y1
            t2 = c2 - y2  # noqa: E702
            dc = t0 * t0 + t1 * t1 + t2 * t2
            t0 = d0 - y0
            t1 = d1 - y1
            t2 = d2 - y2  # noqa: E702
            dd = t0 * t0 + t1 * t1 + t2 * t2
            ra = _fmin(ra, da)
            rb = _fmin(rb, db)
            rc = _fmin(rc, dc)
            rd = _fmin(rd, dd)  # noqa: E702
            colmin[j] = _fmin(colmin[j], _fmin(_fmin(da, db), _fmin(dc, dd)))
        rowmin[i] = ra
        rowmin[i + 1] = rb
        rowmin[i + 2] = rc
        rowmin[i + 3] = rd  # noqa: E702
        i += 4
    while i < nx:
        a0 = x[0, i]
        a1 = x[1, i]
        a2 = x[2, i]  # noqa: E702
        ra = inf
        for j in range(ny):
            t0 = a0 - y[0, j]
            t1 = a1 - y[1, j]
            t2 = a2 - y[2, j]  # noqa: E702
            da = t0 * t0 + t1 * t1 + t2 * t2
            ra = _fmin(ra, da)
            colmin[j] = _fmin(colmin[j], da)
        rowmin[i] = ra
        i += 1


@njit(fastmath=_FAST, inline="always", cache=True)
def _nearest_one_way(x, nx, y, ny, best, index):
    """For each x_i (i < nx) its nearest y_j (j < ny): squared distance and index.

    Elementwise over i (no reduction), so the compare-and-select vectorises.
    """
    for i in range(nx):
        best[i] = np.inf
        index[i] = 0
    for j in range(ny):
        y0 = y[0, j]
        y1 = y[1, j]
        y2 = y[2, j]  # noqa: E702
        jj = np.int32(j)
        for i in range(nx):
            t0 = x[0, i] - y0
            t1 = x[1, i] - y1
            t2 = x[2, i] - y2  # noqa: E702
            d = t0 * t0 + t1 * t1 + t2 * t2
            if d < best[i]:
                best[i] = d
                index[i] = jj


@njit(parallel=True, fastmath=_FAST, cache=True)
def batch_sq_minima(x, x_len, y, y_len, rowmin, colmin):
    """Batched squared NN distances. x: (B, 3, P1), y: (B, 3, P2) SoA; lengths (B,) int64."""
    for b in prange(x.shape[0]):
        _pair_sq_minima(x[b], x_len[b], y[b], y_len[b], rowmin[b], colmin[b])


@njit(parallel=True, fastmath=_FAST, cache=True)
def batch_nearest(x, x_len, y, y_len, d_xy, i_xy, d_yx, i_yx):
    """Batched NN indices both ways. x: (B, 3, P1), y: (B, 3, P2) SoA; outputs (B, P1), (B, P2)."""
    for b in prange(x.shape[0]):
        _nearest_one_way(x[b], x_len[b], y[b], y_len[b], d_xy[b], i_xy[b])
        _nearest_one_way(y[b], y_len[b], x[b], x_len[b], d_yx[b], i_yx[b])


@njit(inline="always", cache=True)
def _chunk_bounds(n_items, n_chunks, chunk):
    size = (n_items + n_chunks - 1) // n_chunks
    start = min(chunk * size, n_items)
    return start, min(start + size, n_items)


@njit(cache=True)
def _ordered_mean(sq_minima, n, squared):
    """Mean of ``sq_minima[:n]`` (or of their square roots), in float64, in a fixed order.

    Compiled without fast-math on purpose: under ``reassoc`` LLVM picks the order of a vectorised
    sum, and it picked differently when it compiled the kernel afresh and when numba loaded the same
    kernel from its cache (measured: 9 of 55 Chamfer values 1 ulp apart), so a fresh worker process
    and the parent disagreed in the last bit. Eight accumulators in a fixed pattern keep the sum
    fast; a float32 sum of 1024 terms would lose ~1e-5, hence float64.
    """
    acc = np.zeros(8, np.float64)
    for i in range(n):
        value = np.float64(sq_minima[i])
        acc[i % 8] += value if squared else np.sqrt(value)
    total = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
    return total / n


@njit(parallel=True, fastmath=_FAST, cache=True)
def chamfer_pairs(a, b, pair_a, pair_b, squared, out, n_chunks):
    """Chamfer (eq. 2) for listed pairs. a: (Na, 3, P1), b: (Nb, 3, P2) SoA; out: (n_pairs,) float64."""
    n_chunks = max(1, min(n_chunks, pair_a.shape[0]))
    n_pairs = pair_a.shape[0]
    p1 = a.shape[2]
    p2 = b.shape[2]
    for chunk in prange(n_chunks):
        rowmin = np.empty(p1, a.dtype)
        colmin = np.empty(p2, a.dtype)
        start, stop = _chunk_bounds(n_pairs, n_chunks, chunk)
        for k in range(start, stop):
            _pair_sq_minima(a[pair_a[k]], p1, b[pair_b[k]], p2, rowmin, colmin)
            out[k] = _ordered_mean(rowmin, p1, squared) + _ordered_mean(colmin, p2, squared)


@njit(parallel=True, fastmath=_FAST, cache=True)
def fscore_pairs(a, b, pair_a, pair_b, thresholds, precision, recall, n_chunks):
    """Precision and recall (eqs. 3–4, strict <) for listed pairs; a = reconstructions, b = references.

    thresholds: (T,) float64 unsquared distances; precision, recall: (n_pairs, T) float64.
    """
    n_chunks = max(1, min(n_chunks, pair_a.shape[0]))
    n_pairs = pair_a.shape[0]
    p1 = a.shape[2]
    p2 = b.shape[2]
    n_thr = thresholds.shape[0]
    for chunk in prange(n_chunks):
        rowmin = np.empty(p1, a.dtype)
        colmin = np.empty(p2, a.dtype)
        start, stop = _chunk_bounds(n_pairs, n_chunks, chunk)
        for k in range(start, stop):
            _pair_sq_minima(a[pair_a[k]], p1, b[pair_b[k]], p2, rowmin, colmin)
            for t in range(n_thr):
                d = thresholds[t]
                hits = 0
                for i in range(p1):
                    if np.sqrt(np.float64(rowmin[i])) < d:
                        hits += 1
                precision[k, t] = hits / p1
                hits = 0
                for j in range(p2):
                    if np.sqrt(np.float64(colmin[j])) < d:
                        hits += 1
                recall[k, t] = hits / p2


@njit(parallel=True, fastmath=_FAST, cache=True)
def l1_pairs(a, b, pair_a, pair_b, zero, out):
    """Sum of |a_i − b_j| over flattened images. a: (Na, D), b: (Nb, D); out: (n_pairs,) float64.

    ``zero`` picks the accumulator: ``np.int64(0)`` for uint8 pixels (exact integer sums,
    ~5× faster than float accumulation here: the SAD pattern vectorises), ``np.float64(0)`` for
    float pixels.
    """
    n_pairs = pair_a.shape[0]
    dim = a.shape[1]
    for k in prange(n_pairs):
        u = a[pair_a[k]]
        v = b[pair_b[k]]
        total = zero
        for e in range(dim):
            total += abs((zero + u[e]) - v[e])
        out[k] = total
