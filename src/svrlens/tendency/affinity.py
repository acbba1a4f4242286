"""Affinity propagation over a precomputed distance matrix: plain and adaptive (Wang et al. 2008)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from ._ap_kernels import NumbaMessages, TorchMessages
from ._checks import check_distances
from .silhouette import silhouette_score

_ROW_BLOCK = 512


_NUMPY_DTYPE = {torch.float32: np.float32, torch.float64: np.float64}
# Up to this N the median similarity is exact; above it, estimated from 2·10⁶ sampled entries.
_EXACT_MEDIAN_MAX_N = 4096


def _median_similarity(distances, rng) -> float:
    """Median of S = −D over all N² entries, diagonal zeros included (scikit-learn's default)."""
    d = distances.detach().cpu().numpy() if isinstance(distances, torch.Tensor) else distances
    n = d.shape[0]
    if n <= _EXACT_MEDIAN_MAX_N:
        return float(-np.median(np.asarray(d, dtype=np.float64)))
    i = rng.integers(0, n, 2_000_000)
    j = rng.integers(0, n, 2_000_000)
    return float(-np.median(np.asarray(d[i, j], dtype=np.float64)))


def _similarities(distances, dtype, device, random_state):
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
    median = _median_similarity(distances, rng)
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


def _labels_from_exemplars(S, exemplars: np.ndarray):
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


@dataclass
class _Run:
    exemplars: np.ndarray
    n_iter: int
    converged: bool
    damping: float


def _iterate(messages, n, damping, max_iter, convergence_iter, adaptive=None) -> _Run:
    """scikit-learn's convergence rule: the exemplar set unchanged for ``convergence_iter``
    iterations. With ``adaptive=(step, max_damping, window)``, damping rises by ``step``
    whenever the number of exemplars oscillates within ``window`` iterations (Wang et al.)."""
    history = np.zeros((n, convergence_iter), np.bool_)
    counts = []
    exemplars = np.zeros(n, np.bool_)
    for it in range(max_iter):
        exemplars = messages.iterate(damping)
        history[:, it % convergence_iter] = exemplars
        k = int(exemplars.sum())
        counts.append(k)
        if it >= convergence_iter:
            stable = history.sum(1)
            if k > 0 and np.all((stable == convergence_iter) | (stable == 0)):
                return _Run(exemplars, it + 1, True, damping)
        if adaptive is not None:
            step, max_damping, window = adaptive
            recent = np.diff(counts[-window:])
            if len(recent) == window - 1 and np.count_nonzero(recent) >= window // 3 and damping < max_damping:
                damping = min(max_damping, damping + step)
                counts.clear()
    return _Run(exemplars, max_iter, False, damping)


def _collapse_duplicates(distances):
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
    n_groups, group = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=d.shape), directed=False)
    representatives = np.array([np.flatnonzero(group == g)[0] for g in range(n_groups)])
    return representatives, group


def _medoid(distances) -> int:
    sums = distances.sum(1)
    return int(sums.argmin())


def _prepare(distances, dtype, device):
    """The compute device and dtype (``fit`` has validated ``distances`` already)."""
    if device is None:
        device = distances.device if isinstance(distances, torch.Tensor) else torch.device("cpu")
    return distances, torch.device(device), dtype


def _messages_for(S, backend: str):
    """The fused numba sweep for CPU arrays, whole-matrix torch ops otherwise (or on request)."""
    if backend not in ("auto", "numba", "torch"):
        raise ValueError(f"backend: expected 'auto', 'numba' or 'torch', found {backend!r}")
    if isinstance(S, np.ndarray):
        return TorchMessages(torch.from_numpy(S)) if backend == "torch" else NumbaMessages(S)
    if backend == "numba":
        raise ValueError(f"backend: 'numba' runs on the CPU only, found device {S.device}")
    return TorchMessages(S)


class AffinityPropagation:
    """Affinity propagation (Frey & Dueck 2007) over a precomputed distance matrix.

    Similarity is ``−distance``; each sample's self-similarity is the ``preference``. Same
    algorithm, update order, convergence rule and final exemplar refinement as
    ``sklearn.cluster.AffinityPropagation(affinity="precomputed")``, but vectorised, float32
    by default and in place: peak extra memory is three N×N arrays of ``dtype`` (S, R, A) on
    the CPU (one more on CUDA), where scikit-learn holds four float64 ones plus temporaries.

    Parameters
    ----------
    damping : float, default=0.5
        Weight of the previous message in each update, in [0.5, 1).
    max_iter : int, default=200
        Maximum number of iterations.
    convergence_iter : int, default=15
        Iterations with an unchanged exemplar set that stop the run.
    preference : float, default=None
        Self-similarity of every sample; ``None`` uses the median similarity (scikit-learn's
        default), which over-splits large data sets (see :class:`AdaptiveAffinityPropagation`).
    dtype : torch.dtype, default=torch.float32
        Precision of the messages.
    device : str or torch.device, default=None
        ``None``: the device of a torch input, else the CPU (fused numba kernel).
    random_state : int, default=0
        Seed of the tie-breaking noise added to the similarities.
    backend : {"auto", "numba", "torch"}, default="auto"
        ``"auto"``: the fused numba sweep on the CPU, torch elsewhere.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each sample, 0 … K−1.
    cluster_centers_indices_ : ndarray of shape (K,)
        Exemplar of each cluster.
    n_iter_ : int
    converged_ : bool
    preference_ : float
        The preference used.

    Notes
    -----
    - Non-convergence: a ``ConvergenceWarning``; the exemplars of the last iteration are used
      (as scikit-learn). If that iteration has no exemplar at all, every sample is put in one
      cluster around the medoid (scikit-learn would return labels −1).
    - Degenerate input: one sample gives one cluster; when all off-diagonal distances are
      equal (e.g. N = 2) the outcome is scikit-learn's: N clusters if the preference exceeds
      the common similarity, else one cluster around sample 0. No iteration is run
      (``n_iter_ = 0``, ``converged_ = True``).

    Examples
    --------
    >>> import numpy as np
    >>> d = np.abs(np.subtract.outer([0.0, 0.1, 0.2, 5.0, 5.1, 5.2], [0.0, 0.1, 0.2, 5.0, 5.1, 5.2]))
    >>> AffinityPropagation().fit(d).labels_.tolist()
    [0, 0, 0, 1, 1, 1]
    """

    def __init__(self, *, damping=0.5, max_iter=200, convergence_iter=15, preference=None, dtype=torch.float32, device=None, random_state=0, backend="auto"):
        self.backend = backend
        self.damping = damping
        self.max_iter = max_iter
        self.convergence_iter = convergence_iter
        self.preference = preference
        self.dtype = dtype
        self.device = device
        self.random_state = random_state

    def _validate_params(self):
        if not 0.5 <= self.damping < 1:
            raise ValueError(f"damping: expected a value in [0.5, 1), found {self.damping}")
        if int(self.max_iter) < 1 or int(self.convergence_iter) < 1:
            raise ValueError(f"max_iter and convergence_iter: expected ≥ 1, found {self.max_iter} and {self.convergence_iter}")
        if self.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype: expected torch.float32 or torch.float64, found {self.dtype}")
        if self.preference is not None and not np.isfinite(self.preference):
            raise ValueError(f"preference: expected a finite number, found {self.preference}")

    def _degenerate(self, distances, preference) -> bool:
        """scikit-learn's rule for a single sample or all-equal similarities (see Notes)."""
        n = distances.shape[0]
        d = distances.cpu().numpy() if isinstance(distances, torch.Tensor) else np.asarray(distances)
        off = d[~np.eye(n, dtype=bool)]
        if n > 1 and not np.all(off == off[0]):
            return False
        if n > 1 and preference > -off[0]:
            self.labels_, self.cluster_centers_indices_ = np.arange(n), np.arange(n)
        else:
            self.labels_, self.cluster_centers_indices_ = np.zeros(n, np.int64), np.array([0])
        self.n_iter_, self.converged_ = 0, True
        return True

    def _finish(self, S, distances, run: _Run):
        self.n_iter_, self.converged_, self.damping_ = run.n_iter, run.converged, run.damping
        if not run.converged:
            warnings.warn(f"Affinity propagation did not converge in {run.n_iter} iterations; using the last iteration's exemplars.", ConvergenceWarning, stacklevel=3)
        if run.exemplars.any():
            self.labels_, self.cluster_centers_indices_ = _labels_from_exemplars(S, run.exemplars)
        else:
            d = distances.cpu().numpy() if isinstance(distances, torch.Tensor) else distances
            self.labels_ = np.zeros(distances.shape[0], np.int64)
            self.cluster_centers_indices_ = np.array([_medoid(d)])
        return self

    def fit(self, distances, y=None):
        """Cluster from a precomputed distance matrix (N, N); returns ``self``.

        Exact duplicates (distance 0) are clustered together: AP runs on one representative of
        each group of duplicates and the labels are broadcast back.
        """
        self._validate_params()
        distances = check_distances(distances)
        collapsed = _collapse_duplicates(distances)
        if collapsed is None:
            return self._fit_distinct(distances)
        representatives, group = collapsed
        index = torch.as_tensor(representatives, device=distances.device) if isinstance(distances, torch.Tensor) else representatives
        self._fit_distinct(distances[index][:, index], expand=(distances, group))
        self.labels_ = self.labels_[group]
        self.cluster_centers_indices_ = representatives[self.cluster_centers_indices_]
        return self

    def _fit_distinct(self, distances, expand=None):
        distances, device, dtype = _prepare(distances, self.dtype, self.device)
        S, median, noise = _similarities(distances, dtype, device, self.random_state)
        self.preference_ = float(median if self.preference is None else self.preference)
        if self._degenerate(distances, self.preference_):
            return self
        messages = _messages_for(S, self.backend)
        messages.set_diagonal(noise.diagonal(self.preference_))
        run = _iterate(messages, distances.shape[0], self.damping, int(self.max_iter), int(self.convergence_iter))
        return self._finish(S, distances, run)

    def fit_predict(self, distances, y=None):
        return self.fit(distances).labels_


@dataclass
class ScanStep:
    """One preference of the adaptive scan."""

    preference: float
    n_clusters: int
    silhouette: float | None
    n_iter: int
    converged: bool
    damping: float


class AdaptiveAffinityPropagation(AffinityPropagation):
    """Affinity propagation that chooses its own preference and damping (Wang et al. 2008).

    The plain default (median preference) measures the preference, not the data: on five
    well-separated blobs it finds 8 clusters at N = 1000 and 70 at N = 10,000. This variant
    (i) scans the preference downward from half the median similarity, each run warm-started
    from the previous messages, until a single cluster remains, (ii) raises the damping by
    ``damping_step`` (up to ``max_damping``) whenever the number of exemplars oscillates
    instead of failing to converge, and (iii) keeps the clustering with the best mean
    silhouette, recording the whole scan.

    The scan is geometric (each preference ``scan_factor`` times the previous), where Wang et
    al. step linearly by ~1 % of the median; the multiplicative step reaches the few-cluster
    regime (preference ~ −N × typical distance) in tens of runs instead of thousands.

    Parameters
    ----------
    damping : float, default=0.5
        Initial damping.
    max_damping : float, default=0.85
    damping_step : float, default=0.05
    max_iter : int, default=300
        Per preference.
    convergence_iter : int, default=15
    scan_factor : float, default=1.25
        Ratio between successive preferences.
    max_steps : int, default=80
        Bound on the number of preferences tried.
    dtype, device, random_state, backend
        As in :class:`AffinityPropagation`.

    Attributes
    ----------
    labels_, cluster_centers_indices_, n_iter_, converged_, preference_
        Of the chosen clustering.
    silhouette_ : float
        Its mean silhouette.
    scan_ : list of ScanStep
        Every preference tried, with K, silhouette (None when K < 2 or K = N), iterations,
        convergence and final damping.
    """

    def __init__(self, *, damping=0.5, max_damping=0.85, damping_step=0.05, max_iter=300, convergence_iter=15, scan_factor=1.25, max_steps=80, dtype=torch.float32, device=None, random_state=0, backend="auto"):
        super().__init__(damping=damping, max_iter=max_iter, convergence_iter=convergence_iter, dtype=dtype, device=device, random_state=random_state, backend=backend)
        self.max_damping = max_damping
        self.damping_step = damping_step
        self.scan_factor = scan_factor
        self.max_steps = max_steps

    def _fit_distinct(self, distances, expand=None):
        """The scan on distinct samples; with ``expand = (full distances, group of each sample)``
        the silhouettes are those of the full data (labels broadcast), so K may reach the number
        of distinct samples (three groups of copies can form three clusters)."""
        full, group = expand if expand is not None else (distances, None)
        n_full = full.shape[0]

        def score_of(labels):
            labels = labels if group is None else labels[group]
            k = int(labels.max()) + 1
            return (silhouette_score(full, labels, check=False) if 2 <= k <= n_full - 1 else None), k

        if not self.scan_factor > 1 or int(self.max_steps) < 1:
            raise ValueError(f"scan_factor and max_steps: expected > 1 and ≥ 1, found {self.scan_factor} and {self.max_steps}")
        distances, device, dtype = _prepare(distances, self.dtype, self.device)
        n = distances.shape[0]
        S, median, noise = _similarities(distances, dtype, device, self.random_state)
        self.scan_ = []
        self.silhouette_ = None
        if self._degenerate(distances, median / 2):
            self.preference_ = median / 2
            self.silhouette_ = score_of(self.labels_)[0]
            return self
        messages = _messages_for(S, self.backend)
        damping = self.damping
        preference = median / 2
        best = None
        adaptive = (self.damping_step, self.max_damping, 2 * int(self.convergence_iter))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(int(self.max_steps)):
                messages.set_diagonal(noise.diagonal(preference))
                run = _iterate(messages, n, damping, int(self.max_iter), int(self.convergence_iter), adaptive)
                damping = run.damping
                k = int(run.exemplars.sum())
                score = None
                if k >= 2:
                    score, k = score_of(_labels_from_exemplars(S, run.exemplars)[0])
                self.scan_.append(ScanStep(preference, k, score, run.n_iter, run.converged, run.damping))
                if score is not None and (best is None or score > best[0]):
                    best = (score, preference, run)
                if k <= 1:
                    break
                preference *= self.scan_factor
        if best is None:  # never two clusters: report the last run (one cluster, or N)
            self.preference_ = preference
            return self._finish(S, distances, run)
        self.silhouette_, self.preference_, run = best
        return self._finish(S, distances, run)
