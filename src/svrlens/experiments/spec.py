"""Typed experiment specs: which base data, which subsampled families, which training, which evaluation.

An :class:`ExperimentSpec` expands into :class:`RunSpec` s, one trained model each. A run's
identity (:attr:`RunSpec.key`, naming its directory) is the SHA-256 of its canonical JSON: base
data config (which fixes the data and their hashes), set, full training config (seed included),
evaluation config, CPU threads per run, device kind (cpu / cuda) and the svrlens version. Change
anything that changes the numbers and it becomes a different run; re-run the same spec with the
same threads and finished runs are skipped. The git commit is provenance, not identity: a
``-dirty`` hash would make every edit of the checkout a new run; the version is what a release
changes. Bit-identity holds per machine: another CPU model runs other library code paths
(an Intel Xeon gave ρ = 0.964 where an AMD Zen 5 gave 0.857), so each run records its CPU.

The named presets are in :mod:`.presets`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from svrlens import __version__
from svrlens.data import SynthConfig
from svrlens.data.subsample import FAMILY_BASE, n_sets, training_shapes_needed
from svrlens.data.synth import training_split_size
from svrlens.errors import InputError
from svrlens.evaluation.config import EvaluationConfig
from svrlens.io import known_keys, read_json
from svrlens.options import parse
from svrlens.training import TrainConfig
from svrlens.training.config import LABEL_MODES

from .real import RealData, RealStudy

SPEC_VERSION = 1


@dataclass
class FamilyStudy:
    """Train one model per set ``family.n`` (n in ``sets``) with ``train``; figs. 3–5."""

    family: str  # "1.1" | "1.2" | "dispersion-image" | "dispersion-shape" (base #1), "2.1" | "2.2" (base #2)
    train: TrainConfig
    sets: tuple | None = None  # None: every set of the family (1…7; 1…8 for dispersion-*)

    def __post_init__(self):
        if self.sets is None:
            self.sets = tuple(range(1, n_sets(self.family) + 1))


@dataclass
class LabelStudy:
    """Train on a base dataset itself with no / weak / full class labels; figs. 6–7."""

    base: str  # key into ExperimentSpec.bases
    train: TrainConfig
    modes: tuple = LABEL_MODES


@dataclass
class ExperimentSpec:
    """A sweep: base datasets, the studies run on them, the evaluation, and the seeds; and
    optionally the paper's sec. 4 on real shapes (``real_study``, :mod:`svrlens.experiments.real`).

    ``seeds`` seed the training of every model (weights, batch order); the data's own seed is in
    its :class:`SynthConfig`, and the evaluation's (bootstrap, clustering noise) is the run's seed.
    """

    name: str
    bases: dict  # base family name ("cube-sphere", "cube-pyramid-sphere") → SynthConfig
    studies: tuple = ()
    label_study: LabelStudy | None = None
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    seeds: tuple = (0,)
    real_study: RealStudy | None = None  # sec. 4 on real shapes (svrlens.experiments.real)

    def validate(self) -> "ExperimentSpec":
        if not self.studies and self.label_study is None and self.real_study is None:
            raise ValueError(f"spec {self.name!r}: expected at least one study, found none")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds: expected distinct integers, found {list(self.seeds)}")
        for key, config in self.bases.items():
            if config.resolved().family != key:
                raise ValueError(f"bases: key {key!r} holds a {config.family!r} config")
        for study in self.studies:
            if study.family not in FAMILY_BASE:
                raise ValueError(
                    f"study family: expected one of {sorted(FAMILY_BASE)}, found {study.family!r}"
                )
            if FAMILY_BASE[study.family] not in self.bases:
                raise ValueError(
                    f"study {study.family}: needs base {FAMILY_BASE[study.family]!r}, "
                    f"the spec has {sorted(self.bases)}"
                )
            count = n_sets(study.family)
            if not study.sets or any(not 1 <= n <= count for n in study.sets):
                raise ValueError(
                    f"study {study.family}: expected sets within 1…{count}, found {list(study.sets)}"
                )
            _check_base_size(study.family, self.bases)
            study.train.validate()
        if self.label_study is not None:
            if self.label_study.base not in self.bases:
                raise ValueError(
                    f"label_study.base: expected one of {sorted(self.bases)}, found {self.label_study.base!r}"
                )
            if any(mode not in LABEL_MODES for mode in self.label_study.modes):
                raise ValueError(
                    f"label_study.modes: expected a subset of {LABEL_MODES}, "
                    f"found {list(self.label_study.modes)}"
                )
            self.label_study.train.validate()
        if self.real_study is not None:
            self.real_study.validate()
        self.evaluation.validate()
        return self

    def runs(self, *, threads: int = 1, device: str | None = None) -> list["RunSpec"]:
        """Every model of the sweep, in a stable order (studies, sets, seeds; then the label study).

        ``threads``: CPU threads each run trains and is diagnosed with. ``device``: the device
        kind the runs train on ("cpu" or "cuda"); None resolves each training config's device
        here ("auto": CUDA when this process sees it). Both are part of each run's identity.
        """
        if threads < 1:
            raise ValueError(f"threads: expected ≥ 1, found {threads}")
        out = []
        for study in self.studies:
            base = self.bases[FAMILY_BASE[study.family]]
            for n in study.sets:
                for seed in self.seeds:
                    out.append(
                        RunSpec(
                            f"{study.family}.{n}",
                            base,
                            study.family,
                            n,
                            replace(study.train, seed=seed),
                            self.evaluation,
                            threads,
                            device or device_kind(study.train.device),
                        )
                    )
        trained_on_bases = [
            ("labels", self.label_study, self.bases.get(getattr(self.label_study, "base", None))),
            ("real", self.real_study, getattr(self.real_study, "data", None)),
        ]
        for prefix, study, base in trained_on_bases:  # no-, weak- and full-label models on a base itself
            for mode in study.modes if study is not None else ():
                for seed in self.seeds:
                    out.append(
                        RunSpec(
                            f"{prefix}-{mode}",
                            base,
                            None,
                            0,
                            replace(study.train, labels=mode, seed=seed),
                            self.evaluation,
                            threads,
                            device or device_kind(study.train.device),
                        )
                    )
        return out

    def to_dict(self) -> dict:
        return {
            "version": SPEC_VERSION,
            "name": self.name,
            "bases": {k: asdict(v) for k, v in self.bases.items()},
            "studies": [
                {"family": s.family, "sets": list(s.sets), "train": s.train.to_dict()} for s in self.studies
            ],
            "label_study": None
            if self.label_study is None
            else {
                "base": self.label_study.base,
                "modes": list(self.label_study.modes),
                "train": self.label_study.train.to_dict(),
            },
            "evaluation": self.evaluation.to_dict(),
            "seeds": list(self.seeds),
            "real_study": None if self.real_study is None else self.real_study.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ExperimentSpec":
        """Parse and validate a spec; unknown keys are errors (a typo must not silently run defaults)."""
        known_keys(
            data,
            {"version", "name", "bases", "studies", "label_study", "evaluation", "seeds", "real_study"},
            "spec",
        )
        if data.get("version", SPEC_VERSION) != SPEC_VERSION:
            raise ValueError(f"spec version: expected {SPEC_VERSION}, found {data.get('version')!r}")
        bases = {}
        for key, value in _mapping(data.get("bases"), "bases").items():
            bases[key] = parse(SynthConfig, value, f"bases.{key}.")
        studies = []
        if not isinstance(data.get("studies", []), list):
            raise ValueError(f"studies: expected a list, found {type(data['studies']).__name__}")
        for k, value in enumerate(data.get("studies") or []):
            value = known_keys(value, {"family", "sets", "train"}, f"studies[{k}]")
            sets = value.get("sets", list(range(1, n_sets(str(value.get("family"))) + 1)))
            if not isinstance(sets, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) for n in sets
            ):
                raise ValueError(f"studies[{k}].sets: expected a list of integers, found {sets!r}")
            studies.append(
                FamilyStudy(
                    _string(value.get("family"), f"studies[{k}].family"),
                    _train_config(value.get("train", {}), f"studies[{k}].train"),
                    tuple(sets),
                )
            )
        label_study = None
        if data.get("label_study") is not None:
            value = known_keys(data["label_study"], {"base", "modes", "train"}, "label_study")
            modes = value.get("modes", list(LABEL_MODES))
            if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
                raise ValueError(f"label_study.modes: expected a list of strings, found {modes!r}")
            label_study = LabelStudy(
                _string(value.get("base"), "label_study.base"),
                _train_config(value.get("train", {}), "label_study.train"),
                tuple(modes),
            )
        evaluation = EvaluationConfig.from_dict(data.get("evaluation", {}))
        seeds = data.get("seeds", [0])
        if not isinstance(seeds, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63 for s in seeds
        ):
            raise ValueError(f"seeds: expected a list of integers in [0, 2**63), found {seeds!r}")
        real = data.get("real_study")
        real_study = None if real is None else RealStudy.from_dict(real, _train_config)
        return cls(
            _string(data.get("name", "custom"), "name"),
            bases,
            tuple(studies),
            label_study,
            evaluation,
            tuple(seeds),
            real_study,
        ).validate()


def _mapping(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, found {type(value).__name__}")
    return value


def _string(value, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, found {value!r}")
    return value


def _train_config(value, where: str) -> TrainConfig:
    return TrainConfig.from_dict(value, f"{where}.")


def _check_base_size(family: str, bases: dict) -> None:
    """A family's sets draw a fixed number of shapes from their base's training split: too small a
    base is refused here, before any data is written (subsampling would refuse it only after)."""
    key = FAMILY_BASE[family]
    n_shapes = bases[key].resolved().n_shapes
    needed, available = training_shapes_needed(family), training_split_size(n_shapes)
    if available < needed:
        raise ValueError(
            f"bases.{key}.n_shapes: study {family} draws {needed} training shapes, but {n_shapes} "
            f"shapes leave {available} for training"
        )


def device_kind(device: str) -> str:
    """The kind of a training config's device: "cuda", "mps" or "cpu" ("auto": CUDA when torch
    sees it, else the CPU)."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device.split(":", 1)[0]


@dataclass(frozen=True)
class RunSpec:
    """One model: trained on set ``family.n`` of ``base`` (or on the base itself when ``family`` is
    None: the label and real studies), then diagnosed on the base test split, with ``threads``
    CPU threads on a ``device`` ("cpu" or "cuda") device."""

    name: str  # "1.2.7", "labels-weak", "real-full"
    base: SynthConfig | RealData
    family: str | None
    n: int
    train: TrainConfig
    evaluation: EvaluationConfig
    threads: int = 1
    device: str = "cpu"

    def to_dict(self) -> dict:
        """Everything that changes the run's numbers (its identity), as canonical JSON data."""
        return {
            "name": self.name,
            "base": asdict(self.base.resolved()),
            "family": self.family,
            "n": self.n,
            "train": _train_identity(self.train),
            "evaluation": self.evaluation.to_dict(),
            "threads": self.threads,
            "device": self.device,
            "svrlens_version": __version__,
        }

    @property
    def key(self) -> str:
        """12 hex digits of the SHA-256 of the canonical JSON of :meth:`to_dict` (sorted keys)."""
        return digest(self.to_dict())

    @property
    def directory(self) -> str:
        return f"{self.name}-s{self.train.seed}-{self.key}"


def _train_identity(train: TrainConfig) -> dict:
    """The training config as identity data. ``model.precision`` is left out where it is the
    float32 default: float32 runs compute what they did before the option existed, so they keep
    the keys (and the finished runs) they had."""
    data = train.to_dict()
    if data["model"]["precision"] == "float32":
        del data["model"]["precision"]
    return data


def digest(data: dict) -> str:
    """12 hex digits of the SHA-256 of ``data`` as canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:12]


def load_spec(path) -> ExperimentSpec:
    """Read a spec from a JSON file (the layout of :meth:`ExperimentSpec.to_dict`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such spec file", path)
    data = read_json(path)
    try:
        return ExperimentSpec.from_dict(_mapping(data, "spec"))
    except ValueError as error:
        raise InputError(str(error), path) from None
