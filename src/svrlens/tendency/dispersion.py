"""The dispersion score (Zhou et al., 3DV 2021): k-medoids inertia per sample.

``DS = (1/N) Σᵢ min_k D(xᵢ, m_k)`` where m_1 … m_K are the medoids that k-medoids finds on the
precomputed distance matrix D, seeded by k-medoids++ (the successor's public code: scikit-learn-
extra ``KMedoids(init="k-medoids++")``, inertia divided by N; K = 2 in its synthetic study, 500
on ShapeNet). DS is in the units of D (a Chamfer distance, an image ℓ1), so it compares sets
measured with the same distance only; higher DS of the outputs reads as more reconstruction.

The medoids minimise the inertia: exactly, by enumeration, when the problem is small
(C(N, K)·N·K ≤ 5·10⁷ distance reads: K = 2 up to N = 368, K ≤ 10 at N = 20), otherwise by
FasterPAM (Schubert & Rousseeuw 2021: eager swaps to a swap-local optimum; the ``kmedoids``
package's ``fasterpam``, single-threaded so that a seed gives one answer) from k-medoids++
seeds, best of ``n_init`` seeded starts. Swap-local optima are not always global on small
random matrices (measured in :mod:`._kmedoids`), which is why small problems are enumerated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from . import _kmedoids
from ._checks import check_distances, is_tensor
from .result import bootstrap_interval

DEFAULT_KS = (2, 5, 10, 20, 50)
METHODS = ("auto", "exact", "fasterpam")


def check_matrix(distances, *, name: str = "distances") -> np.ndarray:
    """A distance matrix (N, N) among the samples as a numpy array, read in place where it can be,
    validated by :func:`svrlens.tendency._checks.check_distances` (square, symmetric, zero
    diagonal, finite, non-negative). float32 and float64 arrays are not copied; torch tensors come
    to the host; other dtypes become float64.

    Raises
    ------
    ValueError
        Not 2-D, empty, not real, NaN/inf, negative, not square, asymmetric or with a non-zero
        diagonal.
    """
    if is_tensor(distances):
        distances = distances.detach().cpu().numpy()
    if not isinstance(distances, np.ndarray):
        raise ValueError(
            f"{name}: expected a numpy.ndarray or torch.Tensor, found {type(distances).__name__}"
        )
    if distances.ndim != 2 or 0 in distances.shape:
        raise ValueError(f"{name}: expected a non-empty (N, N) matrix, found shape {distances.shape}")
    check_distances(distances, name=name)
    if distances.dtype not in (np.float32, np.float64):
        distances = distances.astype(np.float64)
    return distances


class KMedoids:
    """k-medoids on a precomputed (N, N) distance matrix: k-medoids++ seeds, FasterPAM swaps
    (the ``kmedoids`` package), or the optimal medoids by enumeration on small problems.

    Parameters
    ----------
    n_clusters : int, default=2
        K; 1 ≤ K < N (K = 1 is the single best medoid, found exactly).
    method : {"auto", "exact", "fasterpam"}, default="auto"
        "exact" enumerates every K-subset of the samples (the optimal inertia); "fasterpam"
        swaps from k-medoids++ seeds (a swap-local optimum); "auto" is exact when C(N, K)·N·K
        ≤ 5·10⁷ distance reads, else FasterPAM.
    n_init : int, default=1
        Seeded FasterPAM starts; the lowest inertia is kept.
    max_iter : int, default=100
        FasterPAM passes per start.
    random_state : int, default=0
        Seeds the k-medoids++ draws (start r uses ``default_rng([random_state, r])``).

    Attributes
    ----------
    medoid_indices_ : ndarray of shape (K,), int64
        Sample indices of the medoids.
    labels_ : ndarray of shape (N,), int64
        Medoid slot 0 … K−1 nearest to each sample.
    distances_ : ndarray of shape (N,), float64
        Each sample's distance to its medoid (the per-sample inertia).
    inertia_ : float
        Sum of ``distances_`` (float64).
    n_iter_, n_swaps_ : int
        FasterPAM passes and swaps of the kept start (0 and 0 when exact).
    method_ : str
        "exact" or "fasterpam": what ran.
    """

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        method: str = "auto",
        n_init: int = 1,
        max_iter: int = 100,
        random_state: int = 0,
    ):
        self.n_clusters = n_clusters
        self.method = method
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, distances, *, check: bool = True) -> "KMedoids":
        """Cluster the samples of ``distances`` (N, N); see :func:`check_matrix`
        (``check=False`` skips the validation, for a caller that made it already).

        Raises
        ------
        ValueError
            An invalid matrix, or K, n_init, max_iter out of range.
        """
        import kmedoids

        d = check_matrix(distances) if check else distances
        n = d.shape[0]
        k = self.n_clusters
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < max(n, 2):
            raise ValueError(f"n_clusters: expected an integer 1 ≤ K < {n} (the samples), found {k!r}")
        for name, value in (("n_init", self.n_init), ("max_iter", self.max_iter)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: expected an integer ≥ 1, found {value!r}")
        if self.method not in METHODS:
            raise ValueError(f"method: expected one of {METHODS}, found {self.method!r}")
        if k == 1:  # exact: the sample with the smallest column sum
            best = int(np.argmin(d.sum(0, dtype=np.float64)))
            self._keep(np.array([best]), (np.zeros(n, np.int64), d[:, best]), 0, 0, "exact")
            return self
        exact = self.method == "exact" or (
            self.method == "auto" and _kmedoids.exact_cost(n, n, int(k)) <= _kmedoids.EXACT_BUDGET
        )
        if exact:
            _, medoids = _kmedoids.exhaustive(d, int(k))
            self._keep(medoids, _nearest(d, medoids), 0, 0, "exact")
            return self
        best_loss = np.inf
        for start in range(int(self.n_init)):
            rng = np.random.default_rng([int(self.random_state), start])
            seeds = _kmedoids.kmedoids_plusplus(d, int(k), rng)
            # random_state=None, n_cpu=1: the swaps visit the samples in index order, one thread.
            found = kmedoids.fasterpam(d, seeds, max_iter=int(self.max_iter), random_state=None, n_cpu=1)
            medoids = np.asarray(found.medoids, np.int64)
            nearest = _nearest(d, medoids)
            loss = nearest[1].sum()
            if loss < best_loss:
                best_loss = loss
                self._keep(medoids, nearest, found.n_iter, found.n_swap, "fasterpam")
        return self

    def _keep(self, medoids, nearest, passes, swaps, method) -> None:
        labels, distances = nearest
        self.medoid_indices_ = np.asarray(medoids, np.int64).copy()
        self.labels_ = np.asarray(labels, np.int64).copy()
        self.distances_ = np.asarray(distances, np.float64).copy()
        self.inertia_ = float(self.distances_.sum())
        self.n_iter_, self.n_swaps_, self.method_ = int(passes), int(swaps), method


def _nearest(d: np.ndarray, medoids: np.ndarray):
    """(labels, distances): each sample's nearest medoid slot (ties: the lower slot), float64."""
    columns = np.asarray(d[:, medoids], np.float64)  # (N, K)
    labels = columns.argmin(1)
    return labels, columns[np.arange(len(columns)), labels]


@dataclass
class DispersionResult:
    """The dispersion score of one matrix at one K.

    Attributes
    ----------
    score : float
        DS: mean distance of a sample to its medoid (units of the matrix).
    k : int
    interval : tuple of float
        Percentile bootstrap interval of the mean (seeded; resamples the per-sample distances,
        so it is conditional on the medoids).
    confidence : float
    medoids : ndarray of shape (K,), int64
        Sample indices of the medoids.
    labels : ndarray of shape (N,), int64
    n_samples : int
    n_iter, n_swaps : int
    solver : str
        "exact" (the optimal inertia) or "fasterpam".
    method : str
        ``"dispersion"``.
    """

    score: float
    k: int
    interval: tuple[float, float]
    confidence: float
    medoids: np.ndarray
    labels: np.ndarray
    n_samples: int
    n_iter: int
    n_swaps: int
    solver: str
    method: str = "dispersion"

    def to_dict(self, *, labels: bool = True) -> dict:
        """JSON-ready dict (arrays as lists; ``labels=False`` leaves the labels out)."""
        out = asdict(self)
        out["medoids"] = [int(v) for v in self.medoids]
        out["labels"] = [int(v) for v in self.labels] if labels else None
        out["interval"] = [float(v) for v in self.interval]
        return out


def dispersion_score(
    distances,
    k: int = 2,
    *,
    solver: str = "auto",
    n_init: int = 1,
    random_state: int = 0,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    check: bool = True,
) -> DispersionResult:
    """The dispersion score of ``distances`` (N, N) at K = ``k`` (see the module docstring).

    Parameters
    ----------
    distances : ndarray or Tensor of shape (N, N)
        A distance matrix among the samples (symmetric, zero diagonal, any units; float32 or
        float64 read in place); the medoids are samples.
    k : int, default=2
        1 ≤ k < N.
    solver : {"auto", "exact", "fasterpam"}, default="auto"
        See :class:`KMedoids` ``method``: exact on small problems, FasterPAM beyond.
    n_init : int, default=1
        Seeded k-medoids++ starts of FasterPAM (the lowest inertia is kept).
    random_state : int, default=0
        Seeds the starts and the bootstrap.
    n_bootstrap : int, default=1000
    confidence : float, default=0.95
    check : bool, default=True
        Validate ``distances`` (skip only when the caller already did).

    Returns
    -------
    DispersionResult

    Raises
    ------
    ValueError
        An invalid matrix, k, n_init, n_bootstrap or confidence.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 0.1, 0.2, 5.0, 5.1])
    >>> round(dispersion_score(np.abs(x[:, None] - x[None]), k=2).score, 6)
    0.06
    """
    if not 0 < confidence < 1 or isinstance(n_bootstrap, bool) or int(n_bootstrap) < 1:
        raise ValueError(
            f"confidence and n_bootstrap: expected (0, 1) and ≥ 1, found {confidence} and {n_bootstrap}"
        )
    d = check_matrix(distances) if check else distances
    model = KMedoids(k, method=solver, n_init=n_init, random_state=random_state)
    model.fit(d, check=False)
    interval = bootstrap_interval(
        model.distances_, n_bootstrap=int(n_bootstrap), confidence=confidence, random_state=random_state
    )
    return DispersionResult(
        float(model.distances_.mean()),
        int(k),
        interval,
        float(confidence),
        model.medoid_indices_,
        model.labels_,
        int(model.labels_.shape[0]),
        model.n_iter_,
        model.n_swaps_,
        model.method_,
    )


def usable_ks(ks, n_samples: int) -> list[int]:
    """The Ks of a sweep that a matrix of ``n_samples`` allows (1 ≤ K < N), in order."""
    return [int(k) for k in ks if 1 <= int(k) < n_samples]


def dispersion_sweep(distances, ks=DEFAULT_KS, **kwargs) -> list[DispersionResult]:
    """:func:`dispersion_score` of an (N, N) matrix at every K of ``ks`` that it allows (1 ≤ K < N;
    the others are left out), in order. Keyword arguments as for :func:`dispersion_score`."""
    d = check_matrix(distances)
    return [dispersion_score(d, k, check=False, **kwargs) for k in usable_ks(ks, d.shape[0])]
