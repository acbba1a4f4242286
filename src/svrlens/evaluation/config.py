"""How a diagnosis is made: one typed configuration, owned by the evaluation stage.

``svrlens diagnose``, ``svrlens evaluate`` and the sweeps' specs (``"evaluation"`` in a spec
file) all build this object; its defaults live here only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from svrlens.io import known_keys

# F-score thresholds as fractions of each ground truth's bounding-box side. Tatarchenko et al.'s
# "F@1%" assumes dense clouds (What3D: 10,000 points); at the 1024 points of a prediction the
# mean spacing between neighbouring points is ~4–8 % of the box side (cube: 7.7 %), so a 1 %
# threshold counts coincidences, not shape (issue 13). 5, 10 and 20 % are at and above it.
DEFAULT_THRESHOLDS = (0.05, 0.1, 0.2)


@dataclass
class EvaluationConfig:
    """Settings of a diagnosis (see :func:`svrlens.evaluation.diagnose`).

    Attributes
    ----------
    thresholds : tuple of float, default=(0.05, 0.1, 0.2)
        F-score thresholds (eqs. 3–5, strict <): fractions of each ground truth's bounding-box
        side when ``relative``, else absolute distances in the data's units. A threshold below
        the point spacing of the outputs draws a warning.
    relative : bool, default=True
    n_bootstrap : int, default=1000
        Bootstrap resamples of every interval (scipy.stats.bootstrap, percentile).
    confidence : float, default=0.95
        Level of every interval.
    null_references : int, default=20
        Uniform reference sets of the "clustered" calls (:func:`svrlens.tendency.null_tendency`).
    seed : int, default=0
        Seeds the bootstraps, the permutations, the references and the clusterings.
    """

    thresholds: tuple = DEFAULT_THRESHOLDS
    relative: bool = True
    n_bootstrap: int = 1000
    confidence: float = 0.95
    null_references: int = 20
    seed: int = 0

    def validate(self) -> "EvaluationConfig":
        """Check types and ranges; raises ValueError naming the field (``evaluation.<field>``)."""
        thresholds = tuple(self.thresholds) if isinstance(self.thresholds, (list, tuple)) else None
        if not thresholds or any(
            isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0
            for t in thresholds
        ):
            raise ValueError(
                f"evaluation.thresholds: expected positive finite numbers, found {self.thresholds!r}"
            )
        self.thresholds = tuple(float(t) for t in thresholds)
        for name, low in (("n_bootstrap", 10), ("null_references", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"evaluation.{name}: expected an integer ≥ {low}, found {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"evaluation.seed: expected an integer, found {self.seed!r}")
        if not isinstance(self.relative, bool):
            raise ValueError(f"evaluation.relative: expected true or false, found {self.relative!r}")
        if not isinstance(self.confidence, float) or not 0.5 <= self.confidence < 1:
            raise ValueError(
                f"evaluation.confidence: expected a number in [0.5, 1), found {self.confidence!r}"
            )
        return self

    def to_dict(self) -> dict:
        return asdict(self) | {"thresholds": list(self.thresholds)}

    @classmethod
    def from_dict(cls, data: dict, where: str = "evaluation") -> "EvaluationConfig":
        """Parse and validate; unknown keys are errors (a typo must not silently run defaults)."""
        return cls(**known_keys(data, {f.name for f in fields(cls)}, where)).validate()
