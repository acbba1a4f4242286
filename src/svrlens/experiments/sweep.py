"""``svrlens reproduce``: run a spec's sweep and write ``results.json`` (the paper's figs. 3–8 evidence).

``results.json``::

    spec          the ExperimentSpec (to_dict)
    datasets      "1.1.1" … "1.2.7" (and 2.x.n): tendencies with intervals, model / Oracle-NN /
                  retrieval / clustering Chamfer and F-score with intervals, case, verdict, runs
    label_study   "none" / "weak" / "full" (when the spec has one): the same, plus the codewords'
                  silhouette by label
    checks        the paper's result, tested: across 1.2.n the output tendency rises with n
                  (Spearman ρ ≥ 0.7); across 1.1.n it stays at or below the lowest 1.2.n
    provenance    svrlens version, git commit, executor, hardware, data hashes, timings
"""

from __future__ import annotations

import datetime
import platform
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from svrlens import __version__
from svrlens.io import write_json

from .executors import local_executor
from .runs import data_root, finished, prepare_data
from .spec import ExperimentSpec

RESULTS = "results.json"
SPEARMAN_THRESHOLD = 0.7


def reproduce(spec: ExperimentSpec, out, *, executor=None, progress: bool = True) -> dict:
    """Run every run of ``spec`` not yet finished under ``out``, then write ``out/results.json``.

    Finished runs (``result.json`` of the same spec hash) are skipped; killed runs resume from
    their last checkpoint. ``executor`` defaults to :func:`local_executor` (one single-threaded
    run per core at once). Returns the results dict.
    """
    spec.validate()
    executor = executor or local_executor()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started, clock = datetime.datetime.now(datetime.timezone.utc), time.perf_counter()
    write_json(out / "spec.json", spec.to_dict())
    runs = spec.runs(**executor.run_settings())  # threads and device are part of each run's key

    # Data first, in this process: every run then finds its set on the shared path.
    prepared = {}
    for run in tqdm(runs, disable=not progress, desc="data", unit="set", leave=False):
        identity = (data_root(out, run), run.family, run.n)
        if identity not in prepared:
            prepared[identity] = prepare_data(out, run, progress=False)

    records = {run.key: finished(out, run) for run in runs}
    todo = [run for run in runs if records[run.key] is None]
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
                f"{record['name']}: {record['verdict']}, "
                f"output tendency {record['output_tendency']['score']:.2f}"
            )
            bar.update(1)

    ordered = [records[run.key] for run in runs]
    datasets = {
        name: aggregate(group)
        for name, group in _group(r for r in ordered if r["family"] is not None).items()
    }
    label_study = {
        name.removeprefix("labels-"): aggregate(group)
        for name, group in _group(r for r in ordered if r["family"] is None).items()
    }
    results = {
        "spec": spec.to_dict(),
        "datasets": datasets,
        "label_study": label_study or None,
        "checks": check_paper_result(datasets),
        "provenance": provenance(
            executor, ordered, started, time.perf_counter() - clock, skipped=len(runs) - len(todo)
        ),
    }
    write_json(out / RESULTS, results)
    return results


def _group(records) -> dict:
    groups = defaultdict(list)
    for record in records:
        groups[record["name"]].append(record)
    return dict(groups)


_METRICS = ("model", "oracle_nn", "retrieval", "clustering")
_TENDENCIES = ("image_tendency", "shape_tendency", "output_tendency")


def aggregate(records: list[dict]) -> dict:
    """One data set's entry from its runs (one per seed).

    One seed: that run's numbers and bootstrap intervals. Several: means over seeds; each
    interval becomes the mean of the seeds' interval bounds, and ``seed_std`` holds the standard
    deviation across seeds (the error bars of the full preset); case and verdict by majority.
    """
    first = records[0]
    entry = {
        "family": first["family"],
        "n": first["n"],
        "seeds": [r["seed"] for r in records],
        "runs": [r["run"] for r in records],
        "diagnosis_dirs": [r["diagnosis_dir"] for r in records],
        "dataset_sha256": first["dataset_sha256"],
        "train_morph": first.get("train_morph"),
        "train_clusters": first.get("train_clusters"),
        "conventions": first["conventions"],
        "training_seconds": float(sum(r["training"]["seconds"] for r in records)),
    }
    for key in _TENDENCIES:
        scores = np.array([r[key]["score"] for r in records])
        entry[key] = {
            "score": float(scores.mean()),
            "interval": np.mean([r[key]["interval"] for r in records], 0).tolist(),
            "n_clusters": [r[key]["n_clusters"] for r in records]
            if len(records) > 1
            else first[key]["n_clusters"],
            "seed_std": float(scores.std(ddof=1)) if len(records) > 1 else None,
        }
    for key in _METRICS:
        entry[key] = {
            "chamfer": float(np.mean([r[key]["chamfer"] for r in records])),
            "chamfer_interval": np.mean([r[key]["chamfer_interval"] for r in records], 0).tolist(),
            "fscore": np.mean([r[key]["fscore"] for r in records], 0).tolist(),
            "fscore_interval": np.mean([r[key]["fscore_interval"] for r in records], 0).tolist(),
        }
    entry["memorisation"] = float(
        np.nanmean([np.nan if r["memorisation"] is None else r["memorisation"] for r in records])
    )
    entry["codeword_silhouette_by_label"] = (
        first.get("codeword_silhouette_by_label")
        if len(records) == 1
        else _mean_or_none([r.get("codeword_silhouette_by_label") for r in records])
    )
    entry["case"] = _majority([r["case"] for r in records])
    entry["verdict"] = _majority([r["verdict"] for r in records])
    entry["evidence"] = (
        first["evidence"]
        if len(records) == 1
        else [
            f"seed {r['seed']}: {r['verdict']}, output tendency {r['output_tendency']['score']:.3f}"
            for r in records
        ]
    )
    return entry


def _majority(values):
    values = list(values)
    return max(sorted(set(values), key=str), key=values.count)


def _mean_or_none(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def check_paper_result(datasets: dict) -> dict:
    """Fig. 4's claim, tested on the output tendencies of the 1.1.n and 1.2.n sets present.

    - ``rising_1.2``: Spearman ρ between n and the output tendency of 1.2.n is ≥ 0.7;
    - ``flat_1.1``: no 1.1.n output tendency lies above the lowest 1.2.n one by more than the
      intervals (its interval's lower bound is not above that 1.2.n's upper bound).
    A check that cannot be made (fewer than three 1.2.n sets, or no 1.1.n) is ``None``.
    """
    from scipy.stats import spearmanr

    def family(prefix):
        return sorted((v["n"], k, v) for k, v in datasets.items() if v["family"] == prefix)

    checks = {}
    ones, twos = family("1.1"), family("1.2")
    if len(twos) >= 3:
        rho, pvalue = spearmanr([n for n, _, _ in twos], [v["output_tendency"]["score"] for _, _, v in twos])
        rho = 0.0 if np.isnan(rho) else float(rho)
        checks["rising_1.2"] = {
            "spearman_rho": rho,
            "p_value": None if np.isnan(pvalue) else float(pvalue),
            "threshold": SPEARMAN_THRESHOLD,
            "passed": rho >= SPEARMAN_THRESHOLD,
            "output_tendency": {k: v["output_tendency"]["score"] for _, k, v in twos},
        }
    else:
        checks["rising_1.2"] = None
    if ones and twos:
        _, low_name, low = min(twos, key=lambda item: item[2]["output_tendency"]["score"])
        ceiling = low["output_tendency"]["interval"][1]
        above = [k for _, k, v in ones if v["output_tendency"]["interval"][0] > ceiling]
        checks["flat_1.1"] = {
            "lowest_1.2": low_name,
            "ceiling": ceiling,
            "above": above,
            "passed": not above,
            "output_tendency": {k: v["output_tendency"]["score"] for _, k, v in ones},
        }
    else:
        checks["flat_1.1"] = None
    made = [c for c in checks.values() if c is not None]
    checks["passed"] = bool(made) and all(c["passed"] for c in made)
    return checks


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
    """Platform, Python, CPU model and count, GPU name (None without CUDA), torch and numpy versions."""
    import os

    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
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
        "seed": provenance_in.get("random_state", 0),
        "run": ".",
        "diagnosis_dir": ".",
        "dataset_sha256": provenance_in.get("train_sha256"),
        "training": {"seconds": 0.0},
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


def format_results(results: dict) -> str:
    """The verdict per data set and the checks, as printed by ``svrlens reproduce``."""
    header = (
        f"{'set':12s} {'case':>4s} {'verdict':>15s} {'images':>7s} {'shapes':>7s} {'output':>7s} "
        f"{'95% interval':>16s} {'model CD':>9s} {'oracle CD':>9s}"
    )
    lines = [header, "-" * len(header)]
    for name, e in results["datasets"].items():
        t = e["output_tendency"]
        interval = "[{:.3f}, {:.3f}]".format(*t["interval"])
        lines.append(
            f"{name:12s} {e['case']:4d} {e['verdict']:>15s} "
            f"{e['image_tendency']['score']:7.3f} {e['shape_tendency']['score']:7.3f} {t['score']:7.3f} "
            f"{interval:>16s} {e['model']['chamfer']:9.4f} {e['oracle_nn']['chamfer']:9.4f}"
        )
    for mode, e in (results.get("label_study") or {}).items():
        lines.append(
            f"labels {mode:5s} Chamfer {e['model']['chamfer']:.4f} "
            f"(Oracle-NN {e['oracle_nn']['chamfer']:.4f}), "
            f"codeword silhouette by label {e['codeword_silhouette_by_label']}"
        )
    checks = results.get("checks") or {}
    if checks.get("rising_1.2"):
        c = checks["rising_1.2"]
        lines.append(
            f"1.2.n: Spearman rho(n, output tendency) = {c['spearman_rho']:.3f} (needs >= {c['threshold']}): "
            f"{'REPRODUCED' if c['passed'] else 'NOT reproduced'}"
        )
    if checks.get("flat_1.1"):
        c = checks["flat_1.1"]
        lines.append(
            f"1.1.n: output tendency at or below the lowest 1.2.n "
            f"({c['lowest_1.2']}, upper bound {c['ceiling']:.3f}) within the intervals: "
            f"{'REPRODUCED' if c['passed'] else 'NOT reproduced, above: ' + ', '.join(c['above'])}"
        )
    prov = results.get("provenance") or {}
    if "wall_seconds" in prov:
        lines.append(
            f"{prov['runs']} runs ({prov['runs_skipped']} already finished), "
            f"{prov['wall_seconds']:.0f} s wall"
        )
    return "\n".join(lines)
