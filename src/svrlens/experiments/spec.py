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

Presets (see :data:`PRESETS`):

- ``laptop`` (default): base #1 at 64 px, 1.1.n and 1.2.n, a 128-wide decoder trained on a
  16 × 16 folding grid (predicted on 32 × 32: 1024 points), 300 / 600 epochs (1/5 of the
  paper's). 14 models, 41 min on a 2-core CPU with one thread per run.
- ``quick``: a smoke run in minutes — 1.1.1, 1.1.7, 1.2.1, 1.2.4, 1.2.7 at 200 optimizer steps
  each (50 / 200 epochs), one seed; its results carry a caveat (:data:`CAVEATS`) and are not the
  evidence.
- ``seeds``: the laptop model at 1/15 of the paper's epochs (100 / 200) in bfloat16 autocast,
  three seeds per set (42 models): error bars in about the time of one laptop seed.
- ``paper``: the paper's settings (128 px, decoder width 512, 1500 epochs for 1.1.n, 3000 for
  1.2.n), for a GPU.
- ``full``: ``paper`` plus base #2 (10,000 shapes) with 2.1.n / 2.2.n, the label study on base #2
  (no / weak / full labels, 100 epochs: figs. 6–7) and three seeds per set for error bars.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from svrlens import __version__
from svrlens.data import SynthConfig
from svrlens.data.subsample import FAMILY_BASE, n_sets
from svrlens.errors import InputError
from svrlens.evaluation.config import EvaluationConfig
from svrlens.io import known_keys, read_json
from svrlens.models import ModelConfig
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


def device_kind(device: str) -> str:
    """The kind of a training config's device: "cuda" or "cpu" ("auto": CUDA when torch sees it)."""
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


# The laptop preset (README "Presets" has the measurements behind it): the decoder dominates the
# CPU cost (width 512 on 1024 points: 10x the encoder at 64 px), so it is 128 wide and trained on
# 256 points, then sampled at 1024 (folds are functions of the grid coordinates). Epochs keep the
# paper's 1 : 2 ratio between 1.1.n (1500) and 1.2.n (3000), at 1/5. At 1/15 (100 / 200 epochs,
# 18 min) the 1.2.7 model had not yet learnt the sharp image → shape boundary that recognition
# needs (output tendency 0.57, Spearman ρ over 1.2.n 0.07; the same model at 600 epochs: 0.79, K = 2).
# At 1/5 and one thread per run, ρ = 0.857 and 1.1.n stays flat; at two threads per run the same
# preset gave ρ = 0.32 (another reduction order, another trajectory: one seed per set is fragile).
# (The 1/15 sweep above ran two threads per run; at one thread over three seeds, with bfloat16,
# 1/15 gave ρ 0.857 on the means, 0.643 / 0.857 / 0.929 per seed: the ``seeds`` preset.)
_LAPTOP_MODEL = ModelConfig(grid_size=16, decoder_width=128, eval_grid_size=32)
_PAPER_MODEL = ModelConfig(grid_size=32, decoder_width=512)


def _base1(name: str, image_size: int, model: ModelConfig, epochs_11: int, epochs_12: int) -> ExperimentSpec:
    """Base #1 with one model per set of 1.1.n and 1.2.n (figs. 3–5)."""
    return ExperimentSpec(
        name=name,
        bases={"cube-sphere": SynthConfig(family="cube-sphere", image_size=image_size, seed=0)},
        studies=(
            FamilyStudy("1.1", TrainConfig(epochs=epochs_11, val_every=10, model=model)),
            FamilyStudy("1.2", TrainConfig(epochs=epochs_12, val_every=20, model=model)),
        ),
    )


def _laptop() -> ExperimentSpec:
    return _base1("laptop", 64, _LAPTOP_MODEL, 300, 600)


def _quick() -> ExperimentSpec:
    """Five laptop-sized models of 200 optimizer steps each: a first answer in minutes.

    1.1.n at 50 epochs (100 training samples, 4 batches an epoch) and 1.2.n at 200 (20 samples,
    one batch): the same 200 steps per model. At 100 epochs each 1.1.n run took ~300 s against
    ~140 s for a 1.2.n run, and with five runs on two workers the two long ones set the wall
    time (9 min 56 s, measured); equal steps balance the workers.
    """
    spec = _base1("quick", 64, _LAPTOP_MODEL, 50, 200)
    one_one, one_two = spec.studies
    # Validations cost 20–27 s of a 150–190 s run (measured); a smoke run keeps two per 1.1.n model
    # and four per 1.2.n model instead of five and ten.
    one_one = replace(one_one, sets=(1, 7), train=replace(one_one.train, val_every=25))
    one_two = replace(one_two, sets=(1, 4, 7), train=replace(one_two.train, val_every=50))
    return replace(spec, studies=(one_one, one_two))


def _seeds() -> ExperimentSpec:
    """The laptop model re-scaled so that three seeds fit in ~45 minutes on two cores: 1/15 of
    the paper's epochs (100 / 200, its 1 : 2 ratio kept), bfloat16 autocast in the hidden layers
    (:class:`ModelConfig` ``precision``; outputs and loss stay float32), 1.1.n validated every 25
    epochs (its best epoch was within 20 of the last in 21 of 21 laptop runs, measured), seeds
    0, 1, 2. Sized from measured costs on the 2-core AMD EPYC: a bfloat16 epoch 1.6× and a
    validation 2.2× faster than float32; 1/10 of the epochs would need ~57 min. README "Three
    seeds in 45 minutes" compares it, seed by seed, with the laptop preset.
    """
    model = replace(_LAPTOP_MODEL, precision="bfloat16")
    spec = _base1("seeds", 64, model, 100, 200)
    one_one, one_two = spec.studies
    one_one = replace(one_one, train=replace(one_one.train, val_every=25))
    return replace(spec, studies=(one_one, one_two), seeds=(0, 1, 2))


def _paper() -> ExperimentSpec:
    return _base1("paper", 128, _PAPER_MODEL, 1500, 3000)


def _full() -> ExperimentSpec:
    paper = _paper()
    return replace(
        paper,
        name="full",
        bases=paper.bases
        | {"cube-pyramid-sphere": SynthConfig(family="cube-pyramid-sphere", image_size=128, seed=0)},
        studies=paper.studies
        + (
            FamilyStudy("2.1", TrainConfig(epochs=1500, val_every=10, model=_PAPER_MODEL)),
            FamilyStudy("2.2", TrainConfig(epochs=2000, val_every=20, model=_PAPER_MODEL)),
        ),
        label_study=LabelStudy(
            "cube-pyramid-sphere", TrainConfig(epochs=100, val_every=5, model=_PAPER_MODEL)
        ),
        seeds=(0, 1, 2),
    )


PRESETS = {"quick": _quick, "laptop": _laptop, "seeds": _seeds, "paper": _paper, "full": _full}

# Printed with the results of a preset whose numbers are not the paper's evidence.
CAVEATS = {
    "quick": (
        "quick preset: a smoke run (5 models of 200 optimizer steps, one seed), not the result. "
        "At these epochs the models have not learnt the sharp image-to-shape boundary the paper's "
        "sets probe, and two or three sets per family cannot carry a rank correlation; run the laptop preset "
        "(or paper) for the evidence."
    ),
    "seeds": (
        "seeds preset: 1/15 of the paper's epochs in bfloat16. Measured on a 2-core CPU it kept fig. 4's "
        "checks on the seeds' means (rho 0.857) but not on every seed (0.643, 0.857, 0.929), with 1.2.6 "
        "and 1.2.7 less clustered than at the laptop preset's 1/5: error bars for a first look; the "
        "laptop preset (or paper) is the reference, and svrlens compare sets the two side by side."
    ),
}


def preset_spec(name: str) -> ExperimentSpec:
    """A fresh copy of a named preset."""
    if name not in PRESETS:
        raise ValueError(f"preset: expected one of {sorted(PRESETS)}, found {name!r}")
    return PRESETS[name]().validate()


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
