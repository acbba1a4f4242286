"""Affinity propagation over a precomputed distance matrix: plain and adaptive (Wang et al. 2008)."""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass

import numpy as np

from ._ap_kernels import NumbaMessages, TorchMessages
from ._checks import check_distances, is_tensor
from ._similarity import collapse_duplicates, labels_from_exemplars, off_diagonal_constant, similarities
from .silhouette import silhouette_score


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
            if (
                len(recent) == window - 1
                and np.count_nonzero(recent) >= window // 3
                and damping < max_damping
            ):
                damping = min(max_damping, damping + step)
                counts.clear()
    return _Run(exemplars, max_iter, False, damping)


def _medoid(distances) -> int:
    """The sample with the smallest row sum (a reduction: no N×N temporary, on any device)."""
    return int(distances.sum(1).argmin())


_DTYPES = ("float32", "float64")


def _dtype_name(dtype) -> str | None:
    """The name ``float32`` or ``float64`` of that name, numpy dtype or torch dtype; None for others."""
    if dtype is None:  # np.dtype(None) would be float64
        return None
    text = str(dtype)
    if text.startswith("torch."):  # torch.float32 -> "float32", without importing torch
        text = text[len("torch.") :]
    else:
        try:
            text = np.dtype(dtype).name
        except TypeError:
            return None
    return text if text in _DTYPES else None


def _prepare(distances, dtype, device):
    """(distances, compute device, dtype name); ``fit`` has validated ``distances`` already.

    The device is the string "cpu" for a host array when none is asked for, so the CPU path
    never imports torch; otherwise a ``torch.device``.
    """
    if device is None:
        return distances, (distances.device if is_tensor(distances) else "cpu"), _dtype_name(dtype)
    import torch

    return distances, torch.device(device), _dtype_name(dtype)


def _messages_for(S, backend: str):
    """The fused numba sweep for CPU arrays, whole-matrix torch ops otherwise (or on request)."""
    if backend not in ("auto", "numba", "torch"):
        raise ValueError(f"backend: expected 'auto', 'numba' or 'torch', found {backend!r}")
    if isinstance(S, np.ndarray):
        if backend == "torch":
            import torch

            return TorchMessages(torch.from_numpy(S))
        return NumbaMessages(S)
    if backend == "numba":
        raise ValueError(f"backend: 'numba' runs on the CPU only, found device {S.device}")
    return TorchMessages(S)


class AffinityPropagation:
    """Affinity propagation (Frey & Dueck 2007) over a precomputed distance matrix.

    Similarity is ``−distance``; each sample's self-similarity is the ``preference``. Same
    algorithm, update order, convergence rule and final exemplar refinement as
    ``sklearn.cluster.AffinityPropagation(affinity="precomputed")``, but vectorised, float32
    by default and in place: peak extra memory is three N×N arrays of ``dtype`` (S, R, A) on
    the CPU (one more on CUDA) plus row blocks of at most min(4 MiB, 1/16 of the input), input
    checks, median and duplicate search included (measured: 1.55× a float64 input at N = 2000,
    2.55× counting the input; scikit-learn holds four float64 N×N arrays plus temporaries, 7×).
    Exact duplicates make one copy of the distinct samples' distances.

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
        The median is exact up to N = 4096; above, it is the median of 2·10⁶ entries drawn
        uniformly with replacement (seeded by ``random_state``), whose quantile is 0.5 within
        ±0.001 with 99.7 % probability.
    dtype : {"float32", "float64"} or the numpy / torch dtype, default="float32"
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

    def __init__(
        self,
        *,
        damping=0.5,
        max_iter=200,
        convergence_iter=15,
        preference=None,
        dtype="float32",
        device=None,
        random_state=0,
        backend="auto",
    ):
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
            raise ValueError(
                f"max_iter and convergence_iter: expected ≥ 1, "
                f"found {self.max_iter} and {self.convergence_iter}"
            )
        if _dtype_name(self.dtype) is None:
            raise ValueError(f"dtype: expected float32 or float64 (name, numpy, torch), found {self.dtype}")
        if self.preference is not None and not np.isfinite(self.preference):
            raise ValueError(f"preference: expected a finite number, found {self.preference}")

    def _degenerate(self, distances, preference) -> bool:
        """scikit-learn's rule for a single sample or all-equal similarities (see Notes)."""
        n = distances.shape[0]
        common = off_diagonal_constant(distances)  # in row blocks: no copy of the off-diagonal
        if n > 1 and common is None:
            return False
        if n > 1 and preference > -common:
            self.labels_, self.cluster_centers_indices_ = np.arange(n), np.arange(n)
        else:
            self.labels_, self.cluster_centers_indices_ = np.zeros(n, np.int64), np.array([0])
        self.n_iter_, self.converged_ = 0, True
        return True

    def _finish(self, S, distances, run: _Run):
        self.n_iter_, self.converged_, self.damping_ = run.n_iter, run.converged, run.damping
        if not run.converged:
            # scikit-learn's class, so that filters written for its AffinityPropagation apply; imported
            # here only: importing scikit-learn costs ~1.4 s of every command's start (measured).
            from sklearn.exceptions import ConvergenceWarning

            warnings.warn(
                f"Affinity propagation did not converge in {run.n_iter} iterations; "
                "using the last iteration's exemplars.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if run.exemplars.any():
            self.labels_, self.cluster_centers_indices_ = labels_from_exemplars(S, run.exemplars)
        else:
            self.labels_ = np.zeros(distances.shape[0], np.int64)
            self.cluster_centers_indices_ = np.array([_medoid(distances)])
        return self

    def fit(self, distances, y=None):
        """Cluster from a precomputed distance matrix (N, N); returns ``self``.

        Exact duplicates (distance 0) are clustered together: AP runs on one representative of
        each group of duplicates and the labels are broadcast back.
        """
        self._validate_params()
        distances = check_distances(distances)
        collapsed = collapse_duplicates(distances)
        if collapsed is None:
            return self._fit_distinct(distances)
        representatives, group = collapsed
        if is_tensor(distances):
            index = sys.modules["torch"].as_tensor(representatives, device=distances.device)
            distinct = distances[index[:, None], index[None, :]]
        else:
            distinct = distances[np.ix_(representatives, representatives)]  # (R, R): one copy
        self._fit_distinct(distinct, expand=(distances, group))
        self.labels_ = self.labels_[group]
        self.cluster_centers_indices_ = representatives[self.cluster_centers_indices_]
        return self

    def _fit_distinct(self, distances, expand=None):
        distances, device, dtype = _prepare(distances, self.dtype, self.device)
        S, median, noise = similarities(distances, dtype, device, self.random_state)
        self.preference_ = float(median if self.preference is None else self.preference)
        if self._degenerate(distances, self.preference_):
            return self
        messages = _messages_for(S, self.backend)
        messages.set_diagonal(noise.diagonal(self.preference_))
        run = _iterate(
            messages, distances.shape[0], self.damping, int(self.max_iter), int(self.convergence_iter)
        )
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
    well-separated blobs (σ = 0.8; ``benchmarks/bench_tendency.py``) it finds 30 clusters at
    N = 1000 and 156 at N = 10,000 with damping 0.75 (35, and no convergence at N = 10,000, with
    the default 0.5). This variant (i) scans the preference downward from half the median
    similarity (estimated above N = 4096, as in :class:`AffinityPropagation`), each run
    warm-started from the previous messages, until a single cluster remains, (ii) raises the damping by
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

    def __init__(
        self,
        *,
        damping=0.5,
        max_damping=0.85,
        damping_step=0.05,
        max_iter=300,
        convergence_iter=15,
        scan_factor=1.25,
        max_steps=80,
        dtype="float32",
        device=None,
        random_state=0,
        backend="auto",
    ):
        super().__init__(
            damping=damping,
            max_iter=max_iter,
            convergence_iter=convergence_iter,
            dtype=dtype,
            device=device,
            random_state=random_state,
            backend=backend,
        )
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
            raise ValueError(
                f"scan_factor and max_steps: expected > 1 and ≥ 1, "
                f"found {self.scan_factor} and {self.max_steps}"
            )
        distances, device, dtype = _prepare(distances, self.dtype, self.device)
        n = distances.shape[0]
        S, median, noise = similarities(distances, dtype, device, self.random_state)
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
            warnings.filterwarnings("ignore", message="Affinity propagation did not converge")
            for _ in range(int(self.max_steps)):
                messages.set_diagonal(noise.diagonal(preference))
                run = _iterate(messages, n, damping, int(self.max_iter), int(self.convergence_iter), adaptive)
                damping = run.damping
                k = int(run.exemplars.sum())
                score = None
                if k >= 2:
                    score, k = score_of(labels_from_exemplars(S, run.exemplars)[0])
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
