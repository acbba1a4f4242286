"""Silhouette over a precomputed distance matrix (paper eqs. 8–9), in O(N·K) extra memory."""

from __future__ import annotations

import sys

import numpy as np

from ._checks import check_distances, check_labels, is_tensor, nbytes, row_blocks

# Rows per block when a block is a view of float64 input (no temporary): many small products
# are slow where BLAS threads wait on a loaded machine (measured: 20× at N = 2000 on 2 cores).
_VIEW_ROWS = 1024


def _cluster_sums(distances, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """(N, K) float64: sum of distances from each sample to the members of each cluster.

    Row blocks are multiplied by the (N, K) one-hot matrix. A float64 block is a view (up to
    1024 rows: few, large products, each row's sum as one BLAS call computes it); other dtypes
    are converted block by block, in blocks within the working-memory budget.
    """
    n = distances.shape[0]
    onehot = np.zeros((n, n_clusters), np.float64)
    onehot[np.arange(n), codes] = 1.0
    sums = np.empty((n, n_clusters), np.float64)
    copies = str(distances.dtype) not in ("float64", "torch.float64")
    if copies:  # a float64 row per row of the block
        blocks = row_blocks(n, n * 8, nbytes(distances))
    else:
        blocks = [(start, min(start + _VIEW_ROWS, n)) for start in range(0, n, _VIEW_ROWS)]
    if is_tensor(distances):
        onehot_t = sys.modules["torch"].from_numpy(onehot).to(distances.device)
        for start, stop in blocks:
            sums[start:stop] = (distances[start:stop].double() @ onehot_t).cpu().numpy()
    else:
        for start, stop in blocks:
            sums[start:stop] = distances[start:stop].astype(np.float64, copy=False) @ onehot
    return sums


def silhouette_samples(distances, labels, *, check: bool = True) -> np.ndarray:
    """Silhouette of each sample (eq. 8) from a precomputed distance matrix.

    ``s(i) = (b(i) − a(i)) / max(a(i), b(i))`` where ``a(i)`` is the mean distance from i to
    the other members of its cluster and ``b(i)`` the smallest mean distance from i to the
    members of another cluster (eq. 9). Samples of singleton clusters score 0, as in
    scikit-learn.

    Parameters
    ----------
    distances : ndarray or Tensor of shape (n_samples, n_samples)
        Symmetric, non-negative, finite, zero diagonal (e.g. from
        :func:`svrlens.geometry.pairwise_chamfer`). Never copied: the checks and the sums
        run in row blocks whose temporaries stay within min(4 MiB, 1/16 of the matrix), so
        extra memory is O(n_samples · n_clusters) plus one block, checks included (measured
        with ``benchmarks/bench_memory.py``: 0.10× the float64 matrix at N = 2000, 0.008× at
        N = 10,000).
    labels : array-like of shape (n_samples,)
        Integer cluster label of each sample; 2 ≤ number of labels ≤ n_samples − 1.
    check : bool, default=True
        Validate ``distances`` (skip only when the caller already did).

    Returns
    -------
    ndarray of shape (n_samples,), float64
        Equal to ``sklearn.metrics.silhouette_samples(D, labels, metric="precomputed")``.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[0, 1, 4, 5], [1, 0, 3, 4], [4, 3, 0, 1], [5, 4, 1, 0]], float)
    >>> silhouette_samples(d, [0, 0, 1, 1]).round(3).tolist()
    [0.778, 0.714, 0.714, 0.778]
    """
    if check:
        check_distances(distances)
    n = distances.shape[0]
    labels = check_labels(labels, n)
    unique, codes = np.unique(labels, return_inverse=True)
    n_clusters = unique.shape[0]
    if not 2 <= n_clusters <= n - 1:
        raise ValueError(
            f"labels: expected 2 ≤ number of clusters ≤ n_samples − 1 = {n - 1}, found {n_clusters}"
        )
    sizes = np.bincount(codes, minlength=n_clusters).astype(np.float64)
    sums = _cluster_sums(distances, codes, n_clusters)  # (N, K)
    rows = np.arange(n)
    own_size = sizes[codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[rows, codes] / np.maximum(own_size - 1, 1)
        means = sums / sizes[None, :]
    means[rows, codes] = np.inf
    b = means.min(1)
    denominator = np.maximum(a, b)
    s = np.where(denominator > 0, (b - a) / np.where(denominator > 0, denominator, 1.0), 0.0)
    s[own_size == 1] = 0.0
    return s


def silhouette_score(distances, labels, *, check: bool = True) -> float:
    """Mean silhouette (the clustering tendency of eq. 10) over a precomputed distance matrix.

    See :func:`silhouette_samples` for the parameters.
    """
    return float(silhouette_samples(distances, labels, check=check).mean())
