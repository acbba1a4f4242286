"""How a diagnosis is made: one typed configuration, owned by the evaluation stage.

``svrlens diagnose``, ``svrlens evaluate`` and the sweeps' specs (``"evaluation"`` in a spec
file) all build this object; its defaults live here only.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from svrlens.options import Bool, Float, Int, Seed, option, parse, validated

# The diagnosis's revision: raised whenever the diagnosis code changes its numbers for the same
# predictions, so that a sweep re-diagnoses its finished runs (training kept) instead of mixing
# readings of two codes. 1: the copying test and memorisation on the predictions' own excesses;
# 2: on the test truths the predictions land on (a network's sampling offset decided revision 1);
# 3: the clouds are centred on the data alone, the predictions following (float32 last bits move;
# a sweep's matrices of data alone become the same arrays in every run, and are computed once).
DIAGNOSIS_REVISION = 3

# F-score thresholds as fractions of each ground truth's bounding-box side. Tatarchenko et al.'s
# "F@1%" assumes dense clouds (What3D: 10,000 points); at the 1024 points of a prediction the
# mean spacing between neighbouring points is ~4–8 % of the box side (cube: 7.7 %), so a 1 %
# threshold counts coincidences, not shape (issue 13). 5, 10 and 20 % are at and above it.
DEFAULT_THRESHOLDS = (0.05, 0.1, 0.2)


@validated(where="evaluation.")
class EvaluationConfig:
    """Settings of a diagnosis (see :func:`svrlens.evaluation.diagnose`), checked (types and
    ranges) when built or set: a bad value raises a one-line ``ValueError`` naming the field
    (``evaluation.<field>``).

    Attributes
    ----------
    thresholds : tuple of float, default=(0.05, 0.1, 0.2)
        F-score thresholds (eqs. 3–5, strict <), each > 0 and finite: fractions of each ground
        truth's bounding-box side when ``relative``, else absolute distances in the data's
        units. A threshold below the point spacing of the outputs draws a warning.
    relative : bool, default=True
    n_bootstrap : int, default=1000
        Bootstrap resamples of every interval (scipy.stats.bootstrap, percentile), 10 … 10⁶.
    confidence : float, default=0.95
        Level of every interval, in [0.5, 1).
    null_references : int, default=20
        Uniform reference sets of the "clustered" calls (:func:`svrlens.tendency.null_tendency`).
    seed : int, default=0
        Seeds the bootstraps, the permutations, the references and the clusterings.
    dispersion_ks : tuple of int, default=(2, 5, 10, 20, 50)
        The K sweep of the dispersion score (:mod:`svrlens.tendency.dispersion`); the first is the
        headline K (2: the successor's synthetic study). Ks a set is too small for are left out.
    """

    thresholds: Annotated[
        tuple[Annotated[Float, option("threshold", gt=0)], ...],
        option(
            "F-score thresholds, fractions of each ground truth's bounding-box side (a threshold "
            "below the point spacing is warned about)",
            min_length=1,
            max_length=64,
        ),
    ] = DEFAULT_THRESHOLDS
    relative: Annotated[
        Bool, option("thresholds are absolute distances, not fractions of the box side", negate="--absolute")
    ] = True
    n_bootstrap: Annotated[
        Int, option("bootstrap resamples of every interval", flag="--bootstrap", ge=10, le=10**6)
    ] = 1000
    confidence: Annotated[Float, option("level of every interval", ge=0.5, lt=1)] = 0.95
    null_references: Annotated[
        Int, option("uniform reference sets of the 'clustered' calls", ge=1, le=10**4)
    ] = 20
    seed: Annotated[Seed, option("seed of the bootstraps and clusterings")] = 0
    dispersion_ks: Annotated[
        tuple[Annotated[Int, option("K", ge=1, le=10**5)], ...],
        option("K sweep of the dispersion score (the first is the headline K)", min_length=1, max_length=64),
    ] = (2, 5, 10, 20, 50)

    def validate(self) -> "EvaluationConfig":
        """Return self: every field was checked when it was set (kept for callers that chain it)."""
        return self

    def to_dict(self) -> dict:
        return asdict(self) | {"thresholds": list(self.thresholds), "dispersion_ks": list(self.dispersion_ks)}

    @classmethod
    def from_dict(cls, data: dict, where: str = "evaluation") -> "EvaluationConfig":
        """Parse and validate; unknown keys are errors (a typo must not silently run defaults)."""
        return parse(cls, data, f"{where}.")
