"""``svrlens reproduce``: run a spec's sweep and write ``results.json`` (the paper's figs. 3–8 evidence).

``results.json``::

    spec          the ExperimentSpec (to_dict)
    datasets      "1.1.1" … "1.2.7" (and 2.x.n): tendencies with intervals, model / Oracle-NN /
                  retrieval / clustering Chamfer and F-score with intervals, case, verdict, runs
    label_study   "none" / "weak" / "full" (when the spec has one): the same, plus the codewords'
                  silhouette by label
    real_study    the same for the real study (sec. 4 on built meshes), and real_checks: model vs
                  Oracle-NN with interval (within 1 %?), codeword silhouettes, labels' cost
                  (svrlens.experiments.real)
    checks        the paper's result, tested (svrlens.experiments.results): across 1.2.n the
                  output tendency rises with n (Spearman ρ ≥ 0.7); across 1.1.n it stays at or
                  below the lowest 1.2.n; the verdict is recognition in Case 1, reconstruction
                  in Cases 2 and 3
    provenance    svrlens version, git commit, executor, hardware, data hashes, timings
"""

from __future__ import annotations

import datetime
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from svrlens import __version__, _machine
from svrlens.errors import InputError
from svrlens.io import write_json

from .executors import local_executor
from .presets import CAVEATS
from .real import oracle_comparison, sec4_summary
from .results import aggregate, check_paper_result, format_results, group_by_name
from .runs import data_root, epochs_done, finished, prepare_data
from .spec import ExperimentSpec, device_kind

RESULTS = "results.json"


def reproduce(spec: ExperimentSpec, out, *, executor=None, progress: bool = True) -> dict:
    """Run every run of ``spec`` not yet finished under ``out``, then write ``out/results.json``.

    Finished runs (``result.json`` of the same spec hash) are skipped; killed runs resume from
    their last checkpoint. ``executor`` defaults to :func:`local_executor` (one single-threaded
    run per core at once). Returns the results dict.
    """
    spec.validate()
    executor = executor or local_executor()
    out = Path(out)
    started, clock = datetime.datetime.now(datetime.timezone.utc), time.perf_counter()
    runs = spec.runs(**executor.run_settings())  # threads and device are part of each run's key
    records = {run.key: finished(out, run) for run in runs}
    # Seed by seed: a set's next seed is handed out after every set's previous seed, so with fewer
    # workers than sets the matrices of its data alone are in the shared cache by then
    # (runs.shared_chamfer), and the last runs are the short 1.2.n ones. The order changes no
    # number; results keep the spec's order.
    todo = sorted(
        (run for run in runs if records[run.key] is None), key=lambda run: spec.seeds.index(run.train.seed)
    )
    if out.exists() and not out.is_dir():
        raise InputError("--out: expected a directory, found a file", out)
    _check_accelerators(todo, executor)  # both before anything is written under out
    _check_bfloat16(todo, out, executor)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "spec.json", spec.to_dict())

    # Data first, in this process: every run then finds its set on the shared path.
    prepared = {}
    for run in tqdm(runs, disable=not progress, desc="data", unit="set", leave=False):
        identity = (data_root(out, run), run.family, run.n)
        if identity not in prepared:
            prepared[identity] = prepare_data(out, run, progress=False)
    with tqdm(
        total=len(runs),
        initial=len(runs) - len(todo),
        disable=not progress,
        desc=f"sweep {spec.name}",
        unit="run",
        dynamic_ncols=True,
    ) as bar:
        for record in executor.run(todo, out, progress=progress):
            records[record["key"]] = record
            bar.set_postfix_str(
                f"{record['name']}: {record['verdict']}, gain {record['statistic']['value']:.2f}"
            )
            bar.update(1)

    ordered = [records[run.key] for run in runs]
    datasets = {
        name: aggregate(group)
        for name, group in group_by_name(r for r in ordered if r["family"] is not None).items()
    }
    label_study, _ = _study(ordered, "labels-")
    real_study, real_groups = _study(ordered, "real-")
    results = {
        "spec": spec.to_dict(),
        "caveat": CAVEATS.get(spec.name),
        "datasets": datasets,
        "label_study": label_study or None,
        "checks": check_paper_result(datasets),
        "real_study": real_study or None,
        "real_checks": sec4_summary(
            real_study, {mode: oracle_comparison(group) for mode, group in real_groups.items()}
        )
        if real_study
        else None,
        "provenance": provenance(
            executor, ordered, started, time.perf_counter() - clock, skipped=len(runs) - len(todo)
        ),
    }
    write_json(out / RESULTS, results)
    return results


def _check_accelerators(runs, executor) -> None:
    """Refuse runs planned for a CUDA or MPS device (``"device": "cuda"`` / ``"mps"`` in a spec)
    where this process sees none, before anything is written (each run would refuse only after
    the others trained); a Ray cluster at an address has its own devices."""
    import torch

    if getattr(executor, "address", None):
        return
    present = {
        "cuda": ("a CUDA", torch.cuda.is_available),
        "mps": ("an MPS", torch.backends.mps.is_available),
    }
    for kind, (device, available) in present.items():
        # the config's own device where it names one: a local Ray instance plans every run for "cpu"
        # (or "cuda"), and the run then trains on its config's device
        planned = [run.name for run in runs if kind in (run.device, device_kind(run.train.device))]
        if planned and not available():
            raise InputError(
                f"device {kind}: {_runs_named(planned)} planned for {device} device; torch sees none here"
            )


def _runs_named(names: list[str]) -> str:
    """ "1 run (1.2.7)", "3 runs (1.1.1, …)"."""
    return f"{len(names)} run{'s' if len(names) > 1 else ''} ({names[0]}{', …' if len(names) > 1 else ''})"


def _check_bfloat16(runs, out, executor) -> None:
    """Refuse, before anything is written, runs that would *train* in bfloat16 on this machine's
    CPU when it only emulates bfloat16 (no avx512_bf16, amx_bf16 or ARM bf16): ~20x slower than
    float32. Not refused: runs whose training is complete (a new diagnosis revision only predicts
    and diagnoses them again), runs on a GPU, a CPU whose flags cannot be read (the training
    warns), and runs sent to a Ray cluster at an address (its CPUs are not this machine's; a
    local Ray instance's are)."""
    if getattr(executor, "address", None) or _machine.bfloat16_arithmetic() is not False:
        return
    slow = [
        run.name
        for run in runs
        if run.train.model.precision == "bfloat16"
        and run.device == "cpu"
        and epochs_done(out, run) < run.train.epochs
    ]
    if slow:
        flags = " ".join(_machine.cpu_flags()) or "none of avx2 … amx_bf16"
        raise InputError(
            f"precision bfloat16: {_runs_named(slow)} would train on this CPU ({_machine.cpu_model()}, "
            f"flags {flags}), which has no bfloat16 arithmetic and emulates it about "
            f"{_machine.EMULATED_BFLOAT16_SLOWDOWN}x slower than float32 (measured); train in float32 (the "
            "laptop and quick presets, or precision float32 in the spec), or on a machine with "
            "avx512_bf16, AMX or a GPU"
        )


def _study(records: list[dict], prefix: str) -> tuple[dict, dict]:
    """A label or real study's entries (label mode → aggregated entry) and its records per mode."""
    groups = {
        name.removeprefix(prefix): group
        for name, group in group_by_name(r for r in records if r["name"].startswith(prefix)).items()
    }
    return {mode: aggregate(group) for mode, group in groups.items()}, groups


def _git_commit() -> str | None:
    """The commit of the svrlens checkout in use (with ``-dirty`` if modified), if it is one."""
    source = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def hardware() -> dict:
    """Platform, Python, CPU model, flags and count, GPU name (None without CUDA), torch and numpy."""
    import os

    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _machine.cpu_model(),
        "cpu_flags": list(_machine.cpu_flags()),  # "AMD EPYC" names more than one CPU generation
        "cpu_count": os.cpu_count(),
        "gpu": gpu,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def provenance(executor, records: list[dict], started, wall_seconds: float, *, skipped: int) -> dict:
    """What produced a results file: version, commit, timings (s), seeds, data hashes, executor, hardware."""
    return {
        "svrlens_version": __version__,
        "git_commit": _git_commit(),
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": wall_seconds,
        "run_seconds": float(
            sum(r["seconds"] for r in records)
        ),  # compute of all runs, including earlier invocations
        "runs": len(records),
        "runs_skipped": skipped,
        "seeds": sorted({r["seed"] for r in records}),
        "data_sha256": {r["name"]: r["dataset_sha256"] for r in records},
        **executor.describe(),
        "hardware": hardware(),
    }


def write_diagnosis_results(diagnosis: dict, out, *, name: str = "your data") -> dict:
    """``out/results.json`` for one diagnosed data set (``svrlens diagnose``), in the sweep's layout,
    so that :func:`svrlens.report.build_report` renders it the same way."""
    from .runs import diagnosis_record

    provenance_in = diagnosis.get("provenance", {})
    record = {
        "key": None,
        "name": name,
        "family": None,
        "n": 0,
        "seed": provenance_in.get("seed", 0),
        "run": ".",
        "diagnosis_dir": ".",
        "dataset_sha256": provenance_in.get("train_sha256"),
        "training": {"seconds": 0.0, "trained": True},
        "train_morph": None,
        "train_clusters": None,
        "seconds": 0.0,
        **diagnosis_record(diagnosis),
    }
    results = {
        "spec": None,
        "datasets": {name: aggregate([record])},
        "label_study": None,
        "checks": None,
        "provenance": {
            "svrlens_version": __version__,
            "git_commit": _git_commit(),
            **{k: v for k, v in provenance_in.items() if k != "svrlens_version"},
            "hardware": hardware(),
        },
    }
    write_json(Path(out) / RESULTS, results)
    return results


__all__ = ["RESULTS", "check_paper_result", "format_results", "reproduce", "write_diagnosis_results"]
