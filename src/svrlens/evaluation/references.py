"""Distances that measure shape, not sampling: outputs scored against dense references.

Why. Two independent 1024-point samplings of one surface are ~0.14 Chamfer (eq. 2) apart on
the synthetic families; cube ↔ sphere is ~0.30 (FIELD.md). When every distance is taken between
two sparse clouds, about half of what the diagnosis must separate is sampling — and where
ground truths and training clouds share their random numbers (the coupled synthetic sampling)
while a network's output does not, the sampling lands on the output only, so a perfect
recogniser read as "reconstruction" (issue 13).

How. Every shape that is compared *against* (a test truth, a training shape, a library shape)
is a **reference**: its training-density cloud (``points``, P points) and an independent denser
sample of the same surface (``dense``, D points; :mod:`svrlens.data.clouds`). Every cloud that is
compared (a prediction, a baseline's output, a truth in the role of an output) is an **output**
of P points. Then

- ``score(X, j)`` = Chamfer (eq. 2) between the output X and reference j's dense cloud;
- ``floor(j)`` = ``score(points_j, j)``: what a perfect P-point sample of j scores (points_j and
  dense_j are independent samples of the same surface), the **sampling floor**;
- ``excess(X, j)`` = ``score(X, j) − floor(j)``: how much worse than a perfect sample of j.

Measured on base #1 (1024 points, D = 4096): the floor is 0.10–0.11 with a spread of 0.001
between samplings, and the excess of a perfect sample is 0 ± 0.002, so outputs of any
sampling are comparable, and model and baselines are scored identically (a baseline's output
is its training cloud, never the truth's own points). A reference without a dense cloud (a
user's cloud of only P points) falls back to its training cloud, with no floor measured.

Coordinates are centred on the references' common mean in float64 before any narrowing to
float32 (one translation for every cloud, so no distance changes), so that clouds far from the
origin (e.g. UTM) keep their shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from svrlens.geometry import pairwise_chamfer


@dataclass
class References:
    """Reference shapes: training-density clouds, dense clouds and sampling floors.

    Attributes
    ----------
    points : ndarray of shape (M, P, 3), float32
        Training-density clouds, centred (see :func:`centre`).
    dense : ndarray of shape (M, D, 3), float32
        The dense clouds that outputs are scored against (``points`` where none was given).
    floors : ndarray of shape (M,), float64
        Sampling floor of each reference (Chamfer, eq. 2, at P output points); NaN where no
        dense cloud exists (not measured; excess then equals the plain score).
    """

    points: np.ndarray
    dense: np.ndarray
    floors: np.ndarray

    def __len__(self) -> int:
        return len(self.points)

    @property
    def measured(self) -> bool:
        """Whether the sampling floor was measured (every reference has a dense cloud)."""
        return bool(np.isfinite(self.floors).all())


def centre(*clouds: np.ndarray | None, follow: tuple = ()) -> tuple[np.ndarray | None, ...]:
    """Translate every cloud set by one common offset (the mean of the sets' mean points, float64),
    then narrow to float32: ``clouds`` and then ``follow``, which are moved by the same offset but
    do not set it. Chamfer distances are translation invariant, so nothing changes but the float32
    precision of clouds far from the origin. ``None`` entries pass through.

    The diagnosis centres on the data and lets the predictions follow: the data's centred clouds
    are then the same arrays in every run on those data, and a sweep computes their matrices once
    (:func:`svrlens.experiments.runs.shared_chamfer`)."""
    present = [np.asarray(c, np.float64) for c in clouds if c is not None]
    offset = np.mean([c.reshape(-1, 3).mean(0) for c in present], axis=0)
    return tuple(
        None if c is None else (np.asarray(c, np.float64) - offset).astype(np.float32)
        for c in (*clouds, *follow)
    )


def default_chamfer(progress: bool = False, device=None):
    """``chamfer_matrix(a, b=None)`` computing eq.-2 matrices with :func:`pairwise_chamfer`."""

    def chamfer_matrix(a, b=None):
        return pairwise_chamfer(a, b, progress=progress, device=device)

    return chamfer_matrix


def make_references(points: np.ndarray, dense: np.ndarray | None, chamfer_matrix) -> References:
    """References from centred clouds (M, P, 3) and dense clouds (M, D, 3) or None.

    The floors are the diagonal of the (points × dense) score: one pair per reference.
    """
    points = np.ascontiguousarray(points, np.float32)
    if dense is None:
        return References(points, points, np.full(len(points), np.nan))
    dense = np.ascontiguousarray(dense, np.float32)
    floors = np.array([chamfer_matrix(points[j : j + 1], dense[j : j + 1])[0, 0] for j in range(len(points))])
    return References(points, dense, floors)


def score_matrix(outputs: np.ndarray, references: References, chamfer_matrix) -> np.ndarray:
    """(N, M) Chamfer (eq. 2) of every output (N, P, 3) against every reference's dense cloud."""
    return np.asarray(chamfer_matrix(np.ascontiguousarray(outputs, np.float32), references.dense))


def excess_matrix(outputs: np.ndarray, references: References, chamfer_matrix) -> np.ndarray:
    """(N, M) excess over the sampling floor: ``score − floor`` (the plain score where no floor)."""
    return score_matrix(outputs, references, chamfer_matrix) - np.nan_to_num(references.floors)[None, :]


def shape_distances(references: References, chamfer_matrix) -> np.ndarray:
    """(M, M) distances between reference shapes: the symmetrised excess
    ``(excess(points_i, j) + excess(points_j, i)) / 2``, clipped at 0, zero diagonal.

    Exact copies (the same cloud twice, as 1.2's training targets) are exactly 0 apart; two
    samplings of one surface are 0 ± 0.002 apart (measured); geometry adds to that. Meshes and
    clouds of the same shapes therefore give the same matrix within the sampling noise.
    """
    return symmetrise(excess_matrix(references.points, references, chamfer_matrix))


def symmetrise(excess: np.ndarray) -> np.ndarray:
    """(M, M) distances from the (M, M) excess of references' own clouds against each other
    (:func:`excess_matrix` of ``references.points``): ``(E + Eᵀ) / 2`` clipped at 0, zero diagonal."""
    out = np.clip((excess + excess.T) / 2, 0.0, None)
    np.fill_diagonal(out, 0.0)
    return out


def excess_noise(references: References, distances: np.ndarray) -> float | None:
    """The noise of one excess value, estimated from the references themselves: half the spread
    of the floors of nearest-neighbour references, ``median |floor_i − floor_nn(i)| / √2`` (two
    nearly equal shapes have nearly equal floors; what differs is sampling). None without floors
    or without two distinct references."""
    if not references.measured or len(references) < 2:
        return None
    d = np.asarray(distances, np.float64).copy()
    np.fill_diagonal(d, np.inf)
    d[d == 0] = np.inf  # exact copies share their floor: no information about the noise
    nearest = d.argmin(1)
    keep = np.isfinite(d[np.arange(len(d)), nearest])
    if not keep.any():
        return None
    spread = np.abs(references.floors - references.floors[nearest])[keep]
    return float(np.median(spread) / np.sqrt(2))


def sampling_summary(references: References, points: int, *, separation: float | None = None) -> dict:
    """What the sampling floor is, for results and figures.

    ``chamfer``: median floor over the references (eq. 2 of a perfect ``points``-point sample);
    ``chamfer_range``: its 5th–95th percentiles; ``dense_points``; ``measured``; and
    ``separation`` (e.g. the median distance between training-shape clusters), when given.
    """
    floors = references.floors
    measured = references.measured
    return {
        "measured": measured,
        "chamfer": float(np.median(floors)) if measured else None,
        "chamfer_range": [float(v) for v in np.percentile(floors, [5, 95])] if measured else None,
        "points": int(points),
        "dense_points": int(references.dense.shape[1]) if measured else None,
        "separation": None if separation is None else float(separation),
        "meaning": "Chamfer (eq. 2) of a perfect sample of each reference at the output's point count "
        "against its dense cloud; distances in the diagnosis are excesses over it",
    }
