"""The dispersion score (Zhou et al., 3DV 2021): k-medoids inertia per sample.

``DS = (1/N) Σᵢ min_k D(xᵢ, m_k)`` where m_1 … m_K are the medoids that k-medoids finds on the
precomputed distance matrix D, seeded by k-medoids++ (the successor's public code: scikit-learn-
extra ``KMedoids(init="k-medoids++")``, inertia divided by N; K = 2 in its synthetic study, 500
on ShapeNet). DS is in the units of D (a Chamfer distance, an image ℓ1), so it compares sets
measured with the same distance only; higher DS of the outputs reads as more reconstruction.

The medoids minimise the inertia: exactly, by enumeration, when the problem is small
(C(M, K)·N·K ≤ 5·10⁷ distance reads: K = 2 up to N = 368, K ≤ 10 at N = 20), otherwise by
FasterPAM (Schubert & Rousseeuw 2021: eager swaps to a swap-local optimum, :mod:`._kmedoids`)
from k-medoids++ seeds, best of ``n_init`` seeded starts. Swap-local optima are not always
global on small random matrices (measured in :mod:`._kmedoids`), which is why small problems are
enumerated; FasterPAM gives the ``kmedoids`` package's medoids from the same start (tests).

With ``cross=True`` the matrix is (N samples, M candidates) and the medoids are drawn from the
candidates. svrlens uses it to measure predictions as outputs against the test truths as
references (an excess over the sampling floor, :mod:`svrlens.evaluation.references`), so that
the sampling of a cloud does not count as dispersion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from . import _kmedoids
from ._checks import check_distances
from .result import bootstrap_interval

DEFAULT_KS = (2, 5, 10, 20, 50)
METHODS = ("auto", "exact", "fasterpam")


def check_matrix(distances, *, cross: bool = False, name: str = "distances") -> np.ndarray:
    """A distance matrix as a numpy array read in place where it can be.

    ``cross=False``: a distance matrix among the samples, validated by
    :func:`svrlens.tendency._checks.check_distances` (square, symmetric, zero diagonal).
    ``cross=True``: a cross-distance matrix, N samples × M candidates (any shape, square
    included), finite and non-negative. float32 and float64 arrays are not copied; torch
    tensors come to the host; other dtypes become float64.

    Raises
    ------
    ValueError
        Not 2-D, empty, not real, NaN/inf, negative, or (not cross) not square, asymmetric or
        with a non-zero diagonal.
    """
    if isinstance(distances, torch.Tensor):
        distances = distances.detach().cpu().numpy()
    if not isinstance(distances, np.ndarray):
        raise ValueError(
            f"{name}: expected a numpy.ndarray or torch.Tensor, found {type(distances).__name__}"
        )
    if distances.ndim != 2 or 0 in distances.shape:
        raise ValueError(f"{name}: expected a non-empty (N, M) matrix, found shape {distances.shape}")
    if not cross:
        check_distances(distances, name=name)
    elif not np.issubdtype(distances.dtype, np.number) or np.iscomplexobj(distances):
        raise ValueError(f"{name}: expected real numbers, found dtype {distances.dtype}")
    elif not np.isfinite(distances).all() or (distances < 0).any():
        raise ValueError(f"{name}: expected finite, non-negative distances")
    if distances.dtype not in (np.float32, np.float64):
        distances = distances.astype(np.float64)
    return distances


class KMedoids:
    """k-medoids on a precomputed distance matrix: k-medoids++ seeds, FasterPAM swaps.

    Parameters
    ----------
    n_clusters : int, default=2
        K; 1 ≤ K < M candidates (K = 1 is the single best medoid, found exactly).
    cross : bool, default=False
        False: ``fit`` takes an (N, N) distance matrix among the samples. True: an (N, M)
        cross-distance matrix, samples × candidates, and the medoids are candidates.
    method : {"auto", "exact", "fasterpam"}, default="auto"
        "exact" enumerates every K-subset of the candidates (the optimal inertia); "fasterpam"
        swaps from k-medoids++ seeds (a swap-local optimum); "auto" is exact when C(M, K)·N·K
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
        Candidate (column) indices of the medoids.
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
        cross: bool = False,
        method: str = "auto",
        n_init: int = 1,
        max_iter: int = 100,
        random_state: int = 0,
    ):
        self.n_clusters = n_clusters
        self.cross = cross
        self.method = method
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, distances, *, check: bool = True) -> "KMedoids":
        """Cluster the samples (rows) of ``distances`` (N, M); see :func:`check_matrix`
        (``check=False`` skips the validation, for a caller that made it already).

        Raises
        ------
        ValueError
            An invalid matrix, or K, n_init, max_iter out of range.
        """
        d = check_matrix(distances, cross=self.cross) if check else distances
        n, m = d.shape
        k = self.n_clusters
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < max(m, 2):
            raise ValueError(f"n_clusters: expected an integer 1 ≤ K < {m} (the candidates), found {k!r}")
        for name, value in (("n_init", self.n_init), ("max_iter", self.max_iter)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: expected an integer ≥ 1, found {value!r}")
        if self.method not in METHODS:
            raise ValueError(f"method: expected one of {METHODS}, found {self.method!r}")
        if k == 1:  # exact: the candidate with the smallest column sum
            best = int(np.argmin(_kmedoids.column_sums(d)))
            self._keep(np.array([best]), (np.zeros(n, np.int64), d[:, best]), 0, 0, "exact")
            return self
        exact = self.method == "exact" or (
            self.method == "auto" and _kmedoids.exact_cost(n, m, int(k)) <= _kmedoids.EXACT_BUDGET
        )
        if exact:
            _, medoids = _kmedoids.exhaustive(d, int(k))
            self._keep(medoids, _nearest(d, medoids), 0, 0, "exact")
            return self
        best_loss = np.inf
        for start in range(int(self.n_init)):
            rng = np.random.default_rng([int(self.random_state), start])
            medoids = _kmedoids.kmedoids_plusplus(d, int(k), rng, not self.cross)
            near, second = np.empty(n, np.int64), np.empty(n, np.int64)
            near_d, second_d = np.empty(n), np.empty(n)
            loss, passes, swaps = _kmedoids.fasterpam(
                d, medoids, not self.cross, int(self.max_iter), near, near_d, second, second_d
            )
            if loss < best_loss:
                best_loss = loss
                self._keep(medoids, (near, near_d), passes, swaps, "fasterpam")
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
        Candidate indices of the medoids.
    labels : ndarray of shape (N,), int64
    n_samples, n_candidates : int
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
    n_candidates: int
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
    cross: bool = False,
    solver: str = "auto",
    n_init: int = 1,
    random_state: int = 0,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    check: bool = True,
) -> DispersionResult:
    """The dispersion score of ``distances`` (N, M) at K = ``k`` (see the module docstring).

    Parameters
    ----------
    distances : ndarray or Tensor of shape (N, N), or (N, M) with ``cross``
        A distance matrix among the samples (symmetric, zero diagonal; medoids among them), or
        with ``cross=True`` samples × candidate medoids (finite, non-negative).
    k : int, default=2
        1 ≤ k < M.
    cross : bool, default=False
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
    d = check_matrix(distances, cross=cross) if check else distances
    model = KMedoids(k, cross=cross, method=solver, n_init=n_init, random_state=random_state)
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
        int(d.shape[1]),
        model.n_iter_,
        model.n_swaps_,
        model.method_,
    )


def usable_ks(ks, n_candidates: int) -> list[int]:
    """The Ks of a sweep that a matrix with ``n_candidates`` columns allows (1 ≤ K < M), in order."""
    return [int(k) for k in ks if 1 <= int(k) < n_candidates]


def dispersion_sweep(distances, ks=DEFAULT_KS, *, cross: bool = False, **kwargs) -> list[DispersionResult]:
    """:func:`dispersion_score` at every K of ``ks`` that the matrix allows (1 ≤ K < M; the others
    are left out). Keyword arguments as for :func:`dispersion_score`."""
    d = check_matrix(distances, cross=cross)
    return [dispersion_score(d, k, cross=cross, check=False, **kwargs) for k in usable_ks(ks, d.shape[1])]
