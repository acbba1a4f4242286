"""k-medoids kernels: k-medoids++ seeding and FasterPAM swaps (Schubert & Rousseeuw 2021).

The matrix ``D`` is (N, M): rows are the samples, columns the candidate medoids. A square
distance matrix is the usual case (the samples are their own candidates); a rectangular one lets
the medoids be drawn from another set (outputs scored against references). Nothing is copied:
float32 and float64 matrices are read in place; every sum is taken in float64.

Small problems are solved exactly (:func:`exhaustive`, within :data:`EXACT_BUDGET`): swap-local
optima are not always global (measured: FasterPAM from one k-medoids++ start missed the optimum
on 77 of 1183 random matrices of 4–14 points at K = 1…4, by up to 21 %; PAM's BUILD + SWAP on 61
of 883). FasterPAM keeps, per sample, its nearest and second-nearest medoid, and per medoid the loss of
removing it; the best swap for a candidate column is then found in O(N + K), and any improving
swap is made at once (eager). A pass visits the candidates in index order and the search stops at
the first candidate that was the last to swap (a full cycle without an improvement), or when a
pass does not lower the loss. This is the algorithm of the ``kmedoids`` package's ``fasterpam``;
the tests hold both to the same medoids from the same start. No fast-math flags: the swap
decisions compare sums exactly.
"""

from __future__ import annotations

from math import comb

import numpy as np
from numba import njit

# Exhaustive search when C(M, K)·N·K distance reads stay within this (~0.1 s on one core): then
# the medoids are the optimal ones, not a swap-local optimum.
EXACT_BUDGET = 5 * 10**7


def exact_cost(n: int, m: int, k: int) -> int:
    """Distance reads of :func:`exhaustive` on an (n, m) matrix at K = k."""
    return comb(m, k) * n * k


@njit(cache=True)
def _second(D, medoids, o, skip_a, skip_b, start_index, start_d):
    """Nearest medoid of sample o other than ``skip_a``, starting from (start_index, start_d)
    and never choosing ``skip_b`` (the slot just swapped, already given as the start)."""
    best_i, best_d = start_index, start_d
    for i in range(medoids.shape[0]):
        if i == skip_a or i == skip_b:
            continue
        d = np.float64(D[o, medoids[i]])
        if d < best_d:
            best_i, best_d = i, d
    return best_i, best_d


@njit(cache=True)
def assign(D, medoids, square, near, near_d, second, second_d):
    """Nearest and second-nearest medoid slot of every sample (K ≥ 2); returns the loss
    (float64 sum of the nearest distances). Ties keep the lower slot, except that a sample that is
    itself a medoid (``square``: the samples are the candidates) belongs to its own slot."""
    n = D.shape[0]
    k = medoids.shape[0]
    loss = 0.0
    for o in range(n):
        near[o] = 0
        near_d[o] = np.float64(D[o, medoids[0]])
        second[o] = -1
        second_d[o] = np.inf
        for m in range(1, k):
            d = np.float64(D[o, medoids[m]])
            if d < near_d[o] or (square and o == medoids[m]):
                second[o] = near[o]
                second_d[o] = near_d[o]
                near[o] = m
                near_d[o] = d
            elif second[o] == -1 or d < second_d[o]:
                second[o] = m
                second_d[o] = d
        loss += near_d[o]
    return loss


@njit(cache=True)
def _removal_loss(near, near_d, second_d, out):
    out[:] = 0.0
    for o in range(near.shape[0]):
        out[near[o]] += second_d[o] - near_d[o]


@njit(cache=True)
def _best_swap(D, j, near, near_d, second_d, removal, scratch):
    """(change of the loss, medoid slot) of the best swap bringing candidate j in."""
    scratch[:] = removal
    shared = 0.0
    for o in range(D.shape[0]):
        d = np.float64(D[o, j])
        if d < near_d[o]:  # j becomes o's nearest whichever slot leaves
            shared += d - near_d[o]
            scratch[near[o]] += near_d[o] - second_d[o]
        elif d < second_d[o]:  # j replaces the second nearest if o's nearest leaves
            scratch[near[o]] += d - second_d[o]
    slot = 0
    for m in range(1, scratch.shape[0]):
        if scratch[m] < scratch[slot]:
            slot = m
    return scratch[slot] + shared, slot


@njit(cache=True)
def _swap(D, medoids, slot, j, near, near_d, second, second_d):
    """Replace the medoid in ``slot`` by candidate j; update nearest / second; return the loss."""
    medoids[slot] = j
    loss = 0.0
    for o in range(D.shape[0]):
        d = np.float64(D[o, j])
        if near[o] == slot:
            if d < second_d[o]:
                near_d[o] = d
            else:
                near[o], near_d[o] = second[o], second_d[o]
                second[o], second_d[o] = _second(D, medoids, o, near[o], slot, slot, d)
        elif d < near_d[o]:
            second[o], second_d[o] = near[o], near_d[o]
            near[o], near_d[o] = slot, d
        elif d < second_d[o]:
            second[o], second_d[o] = slot, d
        elif second[o] == slot:
            second[o], second_d[o] = _second(D, medoids, o, near[o], slot, slot, d)
        loss += near_d[o]
    return loss


@njit(cache=True)
def fasterpam(D, medoids, square, max_iter, near, near_d, second, second_d):
    """FasterPAM from the given medoids (K ≥ 2, updated in place); ``square``: the samples are
    the candidates (D is a distance matrix among them).

    Returns (loss, passes, swaps); ``near`` and ``near_d`` hold each sample's medoid slot and
    distance on return.
    """
    m_candidates = D.shape[1]
    k = medoids.shape[0]
    is_medoid = np.zeros(m_candidates, np.bool_)
    for m in range(k):
        is_medoid[medoids[m]] = True
    loss = assign(D, medoids, square, near, near_d, second, second_d)
    removal = np.zeros(k, np.float64)
    scratch = np.zeros(k, np.float64)
    _removal_loss(near, near_d, second_d, removal)
    last = m_candidates  # no swap yet: the first pass visits every candidate
    swaps = 0
    passes = 0
    while passes < max_iter:
        passes += 1
        swaps_before, loss_before = swaps, loss
        for j in range(m_candidates):
            if j == last:
                break
            if is_medoid[j]:
                continue
            change, slot = _best_swap(D, j, near, near_d, second_d, removal, scratch)
            if change >= 0.0:
                continue
            swaps += 1
            last = j
            is_medoid[medoids[slot]] = False
            is_medoid[j] = True
            loss = _swap(D, medoids, slot, j, near, near_d, second, second_d)
            _removal_loss(near, near_d, second_d, removal)
        if swaps == swaps_before or loss >= loss_before:
            break
    return loss, passes, swaps


@njit(cache=True)
def exhaustive(D, k):
    """The optimal medoids by enumeration: every K-subset of the columns in lexicographic order,
    the first with the smallest loss kept. Returns (loss, medoids (K,) int64). Cost
    C(M, K)·N·K distance reads: callers bound it (see :data:`EXACT_BUDGET`)."""
    n, m = D.shape
    combo = np.arange(k)
    best = combo.copy()
    best_loss = np.inf
    while True:
        loss = 0.0
        for o in range(n):
            nearest = np.inf
            for slot in range(k):
                d = np.float64(D[o, combo[slot]])
                if d < nearest:
                    nearest = d
            loss += nearest
        if loss < best_loss:
            best_loss = loss
            best[:] = combo
        # the next combination in lexicographic order
        i = k - 1
        while i >= 0 and combo[i] == m - k + i:
            i -= 1
        if i < 0:
            break
        combo[i] += 1
        for j in range(i + 1, k):
            combo[j] = combo[j - 1] + 1
    return best_loss, best


@njit(cache=True)
def column_sums(D):
    """(M,) float64: the sum of each column (the loss of each candidate as the only medoid)."""
    out = np.zeros(D.shape[1], np.float64)
    for o in range(D.shape[0]):
        for j in range(D.shape[1]):
            out[j] += D[o, j]
    return out


def kmedoids_plusplus(D, k: int, rng: np.random.Generator, square: bool) -> np.ndarray:
    """k-medoids++ seeding (Arthur & Vassilvitskii's k-means++ on a distance matrix).

    The first medoid is a sample drawn uniformly; each next one a sample drawn with probability
    proportional to its distance to the nearest medoid so far (the distances as given, as in
    scikit-learn-extra's ``KMedoids(init="k-medoids++")``). A drawn sample stands for itself on a
    distance matrix (``square``), and for its nearest free candidate column on a cross-distance
    matrix. When every
    sample already sits on a medoid (fewer distinct samples than K), the rest are drawn uniformly
    from the free candidates. Returns (k,) int64 candidate indices.
    """
    n, m = D.shape
    chosen = np.zeros(m, bool)
    medoids = np.empty(k, np.int64)
    current = np.full(n, np.inf)
    for slot in range(k):
        weights = np.clip(current, 0.0, None) if slot else np.ones(n)
        total = weights.sum() if np.isfinite(weights).all() else 0.0
        if slot and total <= 0.0:
            candidate = int(rng.choice(np.flatnonzero(~chosen)))
        else:
            sample = int(rng.choice(n, p=weights / weights.sum())) if slot else int(rng.integers(n))
            if square and not chosen[sample]:
                candidate = sample
            else:
                row = np.where(chosen, np.inf, np.asarray(D[sample], np.float64))
                candidate = int(np.argmin(row))
        chosen[candidate] = True
        medoids[slot] = candidate
        current = np.minimum(current, np.asarray(D[:, candidate], np.float64))
    return medoids
