"""Similarities for affinity propagation: S = −D with tie-breaking noise, duplicates, final labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

_ROW_BLOCK = 512


_NUMPY_DTYPE = {torch.float32: np.float32, torch.float64: np.float64}
# Up to this N the median similarity is exact; above it, estimated from 2·10⁶ sampled entries.
_EXACT_MEDIAN_MAX_N = 4096


def median_similarity(distances, rng) -> float:
    """Median of S = −D over all N² entries, diagonal zeros included (scikit-learn's default)."""
    d = distances.detach().cpu().numpy() if isinstance(distances, torch.Tensor) else distances
    n = d.shape[0]
    if n <= _EXACT_MEDIAN_MAX_N:
        return float(-np.median(np.asarray(d, dtype=np.float64)))
    i = rng.integers(0, n, 2_000_000)
    j = rng.integers(0, n, 2_000_000)
    return float(-np.median(np.asarray(d[i, j], dtype=np.float64)))


def similarities(distances, dtype, device, random_state):
    """S = −D in ``dtype`` with scikit-learn's tie-breaking noise, built block by block.

    Returns (S, median similarity, diagonal noise). The noise ``(eps·S + 100·tiny)·N(0, 1)`` is
    scikit-learn's, drawn from a seeded generator; it only breaks exact ties (e.g. duplicated
    samples). scikit-learn adds it *after* placing the preference on the diagonal, so the
    standard normals of the diagonal are returned and applied to every preference (without
    them, identical samples have identical self-similarities and the messages oscillate).
    In float32, the diagonal and zero distances (duplicated samples) get a floor of
    ``eps·|median|`` instead of ``100·tiny``: a 1e-36 nudge vanishes in float32 arithmetic on
    messages of size ~|median|, and the duplicates' messages then oscillate (measured: 1 seed
    in 12 never converges on two triples of duplicates). Other entries get scikit-learn's noise.
    """
    n = distances.shape[0]
    rng = np.random.default_rng(random_state)
    median = median_similarity(distances, rng)
    np_dtype = _NUMPY_DTYPE[dtype]
    eps, tiny = np.finfo(np_dtype).eps, np.finfo(np_dtype).tiny
    duplicate_floor = eps * abs(median) if np_dtype == np.float32 else 0.0
    if device.type == "cpu":
        src = distances.detach().cpu().numpy() if isinstance(distances, torch.Tensor) else distances
        S = np.empty((n, n), np_dtype)
        for r in range(0, n, _ROW_BLOCK):
            block = -np.asarray(src[r : r + _ROW_BLOCK], dtype=np_dtype)
            noise = rng.standard_normal(block.shape, dtype=np_dtype)
            scale = eps * block + tiny * 100
            if duplicate_floor:
                scale[block == 0] = duplicate_floor
            S[r : r + _ROW_BLOCK] = block + scale * noise
        return S, median, _DiagonalNoise(rng.standard_normal(n), eps, tiny * 100 + duplicate_floor)
    D = torch.as_tensor(distances, device=device)
    S = torch.empty((n, n), dtype=dtype, device=device)
    generator = torch.Generator(device=device).manual_seed(int(rng.integers(2**62)))
    for r in range(0, n, _ROW_BLOCK):
        block = -D[r : r + _ROW_BLOCK].to(dtype)
        noise = torch.randn(block.shape, generator=generator, device=device, dtype=dtype)
        scale = eps * block + tiny * 100
        if duplicate_floor:
            scale[block == 0] = duplicate_floor
        S[r : r + _ROW_BLOCK] = block + scale * noise
    return S, median, _DiagonalNoise(rng.standard_normal(n), eps, tiny * 100 + duplicate_floor)


@dataclass
class _DiagonalNoise:
    normals: np.ndarray
    eps: float
    floor: float

    def diagonal(self, preference: float) -> np.ndarray:
        """The self-similarities for ``preference``, with scikit-learn's noise."""
        return preference + (self.eps * preference + self.floor) * self.normals


def labels_from_exemplars(S, exemplars: np.ndarray):
    """scikit-learn's final assignment and exemplar refinement, on the (noisy) similarities."""
    S = S.cpu().numpy() if isinstance(S, torch.Tensor) else S
    centres = np.flatnonzero(exemplars)
    k = centres.size
    c = np.argmax(S[:, centres], axis=1)
    c[centres] = np.arange(k)
    for cluster in range(k):
        members = np.flatnonzero(c == cluster)
        centres[cluster] = members[np.argmax(S[np.ix_(members, members)].sum(0, dtype=np.float64))]
    c = np.argmax(S[:, centres], axis=1)
    c[centres] = np.arange(k)
    labels = centres[c]
    centres = np.unique(labels)
    return np.searchsorted(centres, labels), centres


def collapse_duplicates(distances):
    """Groups of exact duplicates (distance 0, transitively): (representatives, inverse) or None.

    A recognising network emits exact copies of a few shapes; AP's messages between exact
    duplicates are ties that oscillate (measured: 200 copies of two clouds, K = 44, no
    convergence). Duplicates belong to one cluster whatever the clustering, so AP runs on one
    representative per group and the labels are broadcast back.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    d = distances.detach().cpu().numpy() if isinstance(distances, torch.Tensor) else np.asarray(distances)
    rows, cols = np.nonzero(d == 0)
    if len(rows) == d.shape[0]:  # only the diagonal
        return None
    n_groups, group = connected_components(
        coo_matrix((np.ones(len(rows)), (rows, cols)), shape=d.shape), directed=False
    )
    representatives = np.array([np.flatnonzero(group == g)[0] for g in range(n_groups)])
    return representatives, group
