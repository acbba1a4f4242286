"""The paper's sec. 4 on real shapes: a ``real`` study in a reproduce spec, and what it concludes.

A :class:`RealStudy` trains the standard model on a dataset built from meshes (``svrlens data
build``; or a mesh collection, built into the sweep's ``data/`` on first use) with no labels,
weak labels (cross-entropy in the first ``weak_epochs``, 5 by default) and full labels, and
diagnoses each. Its runs are named ``real-none``, ``real-weak``, ``real-full``; ``results.json``
holds them under ``real_study`` and :func:`sec4_summary` under ``real_checks``:

- ``oracle``: per label mode, the model's mean Chamfer (eq. 2, against the dense truth) relative
  to the Oracle-NN's, ``model / oracle − 1``, with its interval (a paired bootstrap over test
  samples for one seed, a t interval over seeds for several), and whether it is within 1 %:
  "yes" when the whole interval lies in [−1 %, +1 %], "no" when it lies wholly outside, else
  "undecided" (too few test samples to tell);
- ``codewords``: the silhouette of the test codewords by category, per mode (the t-SNE of
  fig. 7 shows them): the paper finds no clusters without labels and clusters with them;
- ``labels_cost``: the full-label model's Chamfer against the no-label one's (the paper: labels
  cost Chamfer), both with their intervals;
- ``verdict``: the within-cluster-gain verdict of each mode.

Example spec (JSON)::

    {"name": "sweethome3d", "bases": {},
     "real_study": {"dataset": "sh3d-dataset", "modes": ["none", "weak", "full"],
                    "train": {"epochs": 60, "val_every": 5}}}

``"meshes": "FOLDER", "build": {...}`` (a :class:`~svrlens.data.build.BuildConfig`) in place of
``"dataset"`` builds the collection first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from svrlens.data.build import BuildConfig
from svrlens.io import known_keys, read_json
from svrlens.training import TrainConfig
from svrlens.training.config import LABEL_MODES

WITHIN = 0.01  # the paper's "within ~1 % of Oracle-NN"


@dataclass
class RealData:
    """Real shapes for a study: a built svrlens ``dataset`` directory, or a mesh collection
    (``meshes``) to build with ``build``. Exactly one of the two paths.

    ``family`` is "real" (where the sweep keeps its data); ``sha256`` is filled by
    :meth:`resolved` with the dataset's file hashes, so a rebuilt dataset is a new run. A mesh
    collection is identified by its path and build options only: the sweep builds it once into
    its ``data/`` and does not notice later edits of the meshes (build again with a new ``--out``)."""

    dataset: str | None = None
    meshes: str | None = None
    build: BuildConfig = field(default_factory=BuildConfig)
    family: str = "real"
    sha256: dict | None = None

    def validate(self) -> "RealData":
        if (self.dataset is None) == (self.meshes is None):
            raise ValueError(
                f"real_study: expected exactly one of 'dataset' and 'meshes', found {self.dataset!r} "
                f"and {self.meshes!r}"
            )
        self.build.validate()
        return self

    def resolved(self) -> "RealData":
        """Absolute paths, and a dataset's SHA-256 per file (its identity in run keys)."""
        if self.meshes is not None:
            return replace(self, meshes=str(Path(self.meshes).resolve()))
        path = Path(self.dataset).resolve()
        manifest = path / "manifest.json"
        hashes = read_json(manifest).get("sha256") if manifest.is_file() else None
        return replace(self, dataset=str(path), sha256=hashes)


@dataclass
class RealStudy:
    """Train on real shapes with each of ``modes`` (label use); sec. 4, figs. 6–8."""

    data: RealData
    train: TrainConfig
    modes: tuple = LABEL_MODES

    def validate(self) -> "RealStudy":
        self.data.validate()
        if not self.modes or any(mode not in LABEL_MODES for mode in self.modes):
            raise ValueError(
                f"real_study.modes: expected a subset of {LABEL_MODES}, found {list(self.modes)}"
            )
        self.train.validate()
        return self

    def to_dict(self) -> dict:
        data = {"dataset": self.data.dataset} if self.data.dataset is not None else {}
        if self.data.meshes is not None:
            data = {"meshes": self.data.meshes, "build": self.data.build.to_dict()}
        return data | {"modes": list(self.modes), "train": self.train.to_dict()}

    @classmethod
    def from_dict(cls, value: dict, parse_train) -> "RealStudy":
        """Parse (``parse_train(value, where)`` reads the training config); unknown keys are errors."""
        known_keys(value, {"dataset", "meshes", "build", "modes", "train"}, "real_study")
        data = RealData(
            dataset=value.get("dataset"),
            meshes=value.get("meshes"),
            build=BuildConfig.from_dict(value.get("build", {}), "real_study.build"),
        )
        modes = tuple(value.get("modes", LABEL_MODES))
        return cls(data, parse_train(value.get("train", {}), "real_study.train"), modes).validate()


def _call(interval, limit: float = WITHIN) -> str:
    if interval is None:
        return "undecided"
    low, high = interval
    if -limit <= low and high <= limit:
        return "yes"
    return "no" if low > limit or high < -limit else "undecided"


def oracle_comparison(records: list[dict]) -> dict:
    """Model vs Oracle-NN (mean Chamfer) over one mode's runs: ``relative`` (model / oracle − 1)
    with ``interval``, ``interval_kind`` and ``within_1_percent`` ("yes" / "no" / "undecided")."""
    from .results import across_seeds

    compared = [r["comparisons"]["oracle_nn"]["chamfer"] for r in records]
    summary = across_seeds(
        [c["relative_difference"] for c in compared], [c["relative_interval"] for c in compared]
    )
    return {
        "model_chamfer": sum(c["model_mean"] for c in compared) / len(compared),
        "oracle_chamfer": sum(c["baseline_mean"] for c in compared) / len(compared),
        "relative": summary["score"],
        "interval": summary["interval"],
        "interval_kind": summary["interval_kind"],
        "within_1_percent": _call(summary["interval"]),
    }


def sec4_summary(entries: dict, comparisons: dict) -> dict:
    """What the real study shows (see the module docstring), from its aggregated ``entries`` and
    :func:`oracle_comparison` per mode."""
    silhouettes = {mode: e.get("codeword_silhouette_by_label") for mode, e in entries.items()}
    out = {
        "oracle": comparisons,
        "codewords": silhouettes,
        "verdicts": {mode: e["verdict"] for mode, e in entries.items()},
    }
    if "none" in entries and "full" in entries:
        none, full = entries["none"]["model"], entries["full"]["model"]
        out["labels_cost"] = {
            "none": none["chamfer"],
            "none_interval": none["chamfer_interval"],
            "full": full["chamfer"],
            "full_interval": full["chamfer_interval"],
            "full_minus_none": full["chamfer"] - none["chamfer"],
        }
        if None not in (silhouettes["none"], silhouettes["full"]):
            out["labels_cluster_codewords"] = silhouettes["full"] > silhouettes["none"]
    return out


def format_real(summary: dict) -> list[str]:
    """The printed lines of :func:`sec4_summary`."""
    lines = []
    for mode, c in summary["oracle"].items():
        low, high = c["interval"] or (float("nan"), float("nan"))
        silhouette = summary["codewords"].get(mode)
        lines.append(
            f"real {mode:5s} model Chamfer {c['model_chamfer']:.4f} vs Oracle-NN {c['oracle_chamfer']:.4f}: "
            f"{100 * c['relative']:+.1f} % [{100 * low:+.1f}, {100 * high:+.1f}] "
            f"(within 1 %: {c['within_1_percent']}); codeword silhouette by category "
            f"{'–' if silhouette is None else f'{silhouette:.3f}'}; verdict {summary['verdicts'][mode]}"
        )
    cost = summary.get("labels_cost")
    if cost is not None:
        lines.append(
            f"real labels cost: full − none model Chamfer = {cost['full_minus_none']:+.4f}"
            + (
                f"; codewords cluster more with labels: {summary['labels_cluster_codewords']}"
                if "labels_cluster_codewords" in summary
                else ""
            )
        )
    return lines
