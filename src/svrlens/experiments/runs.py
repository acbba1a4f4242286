"""One run of a sweep: its data, its training (resumed if killed), its diagnosis, its result record.

Layout under a sweep's output directory::

    data/<base family>-<hash>/base/          the base dataset (content-addressed by its SynthConfig)
    data/<base family>-<hash>/<family>.<n>/  a subsampled set, written on first use
    cache/chamfer/<cpu|cuda>/<fingerprint>/  the diagnoses' matrices of data alone (≥ 1024 pairs),
                                             named by their inputs' contents (a set's seeds share them)
    runs/<set>-s<seed>-<hash>/spec.json      what the run is (RunSpec.to_dict: its identity)
                             train/          the training run (config.json, log.jsonl, last.pt, best.pt,
                                             predictions/)
                             diagnosis/      diagnosis.json, summary.txt, figures/, matrices.npz
                             result.json     the run's record; written last, so it marks the run finished

:func:`execute_run` is a pure function of (run spec, output root): executors call it in-process
or as a Ray task, and it pins the process state the numbers depend on (threads, precision modes:
:mod:`.environment`) for the run, restoring the caller's afterwards. Data are regenerated
deterministically where a worker does not see them.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from svrlens._machine import cpu_flags, cpu_model
from svrlens.data import generate, load_dataset
from svrlens.data.subsample import write_set
from svrlens.errors import InputError
from svrlens.io import write_json
from svrlens.plotting import png_only

from .environment import numerics_in_force, pinned_numerics
from .real import RealData
from .spec import RunSpec, digest

RESULT = "result.json"

# Matrices of at least this many pairs go through the sweep's shared cache; the floors (one pair
# per reference, hundreds of calls) would only fill it with files.
CACHED_PAIRS = 1024


def shared_chamfer(out, device=None):
    """``chamfer_matrix(a, b=None)`` for the matrices of data alone in a sweep's diagnoses
    (``data_chamfer_matrix`` of :func:`svrlens.evaluation.diagnose`): those of ≥
    :data:`CACHED_PAIRS` pairs are kept under ``out/cache/chamfer/<cpu|cuda>/``, named by a SHA-256
    of their inputs (:func:`svrlens.evaluation.blocks.cached_chamfer_matrix`), so a set's later
    seeds read them instead of computing them: its training shapes, its test truths against the
    test and training references, its training clouds against the test references (the clouds
    are centred on the set's training and test data, so the arrays, and the names, are the same
    for every seed of a set and differ between sets). Measured on the laptop preset: 60 % of a
    1.1.n diagnosis's Chamfer pairs, 52 % of a 1.2.n one's. Entries are the same numbers as
    uncached ones (each pair is computed alone); two workers that meet the same matrix both
    compute it and write the same blocks atomically. ``device``: as
    :func:`svrlens.geometry.pairwise_chamfer`'s (None: numba on the CPU); each backend has its
    own directory, since their last bits differ."""
    from svrlens.evaluation.blocks import cached_chamfer_matrix
    from svrlens.evaluation.references import default_chamfer

    root = Path(out) / "cache" / "chamfer" / ("cpu" if device is None else str(device).split(":")[0])
    cached, plain = cached_chamfer_matrix(root, device=device), default_chamfer(device=device)

    def chamfer_matrix(a, b=None):
        pairs = len(a) * len(a if b is None else b)
        return cached(a, b) if pairs >= CACHED_PAIRS else plain(a, b)

    return chamfer_matrix


def data_root(out, run: RunSpec) -> Path:
    """``out/data/<base family>-<hash of the base's SynthConfig>``: where a run's data live."""
    base = run.base.resolved()
    return Path(out) / "data" / f"{base.family}-{digest(asdict(base))}"


def _publish(path: Path, write) -> Path:
    """Write a dataset directory unless it exists; a concurrent writer of the same content wins."""
    if (path / "manifest.json").is_file():
        return path
    try:
        write(path)
    except InputError:  # another process renamed the same (deterministic) dataset into place first
        if not (path / "manifest.json").is_file():
            raise
    return path


def prepare_data(out, run: RunSpec, *, progress: bool = False) -> Path:
    """The dataset directory a run trains on, generated if absent (deterministic from the spec):
    a real study's dataset itself, or its meshes built (:func:`svrlens.data.build.build_dataset`)."""
    root = data_root(out, run)
    base_path = root / "base"
    if isinstance(run.base, RealData):
        return _real_data(run.base, base_path, progress)

    def write_base(path):
        generate(run.base, progress=progress).save(path)

    _publish(base_path, write_base)
    if run.family is None:
        return base_path

    def write_run_set(path):
        write_set(load_dataset(base_path), run.family, run.n, path)

    return _publish(root / f"{run.family}.{run.n}", write_run_set)


def _real_data(data: RealData, base_path: Path, progress: bool) -> Path:
    from svrlens.data.build import build_dataset

    if data.dataset is not None:
        if not (Path(data.dataset) / "manifest.json").is_file():
            raise InputError("real_study.dataset: not a svrlens dataset (no manifest.json)", data.dataset)
        return Path(data.dataset)
    return _publish(base_path, lambda path: build_dataset(data.meshes, path, data.build, progress=progress))


def finished(out, run: RunSpec) -> dict | None:
    """The run's record if it finished under this exact spec and was diagnosed by this diagnosis
    revision (:data:`svrlens.evaluation.config.DIAGNOSIS_REVISION`), else None. A run diagnosed by
    an older revision runs again: its training is complete, so that re-runs only the prediction and
    the diagnosis."""
    from svrlens.evaluation.config import DIAGNOSIS_REVISION

    path = Path(out) / "runs" / run.directory / RESULT
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None  # a damaged record: run again
    if not isinstance(record, dict):
        return None
    if record.get("key") != run.key or record.get("diagnosis_revision", 1) != DIAGNOSIS_REVISION:
        return None
    return record


def epochs_done(out, run: RunSpec) -> int:
    """Epochs of the run trained so far, from its training log (how a parent process follows a
    run in a worker without talking to it)."""
    try:
        with open(Path(out) / "runs" / run.directory / "train" / "log.jsonl", "rb") as log:
            return min(sum(1 for _ in log), run.train.epochs)
    except OSError:
        return 0


def execute_run(run: RunSpec, out, *, progress: bool = False, chamfer_matrix=None) -> dict:
    """Train and diagnose one run (skipped if finished, resumed if killed); returns its record.

    The run uses ``run.threads`` CPU threads and a ``run.device`` device, whatever the calling
    process's settings (restored on return). ``chamfer_matrix`` : optional
    ``(a, b=None) -> ndarray`` used for the diagnosis's Chamfer matrices (the Ray executor passes
    one that splits large matrices into block tasks).

    Raises
    ------
    InputError
        The run is planned for CUDA and this process sees no CUDA device.
    """
    done = finished(out, run)
    if done is not None:
        return done | {"skipped": True}
    with pinned_numerics(run.threads):
        return _execute(run, out, progress=progress, chamfer_matrix=chamfer_matrix)


def _execute(run: RunSpec, out, *, progress: bool, chamfer_matrix) -> dict:
    import torch

    from svrlens.evaluation.diagnosis import chamfer_device
    from svrlens.evaluation.run import run_diagnosis
    from svrlens.training.loop import resolve_device, train

    if run.device == "cuda" and not torch.cuda.is_available():
        raise InputError(f"run {run.directory} is planned for a CUDA device; this process sees none")
    started = time.perf_counter()
    run_dir = Path(out) / "runs" / run.directory
    write_json(run_dir / "spec.json", run.to_dict() | {"key": run.key})
    dataset_path = prepare_data(out, run, progress=progress)
    config = run.train if run.train.device != "auto" else replace(run.train, device=run.device)
    trained = train(
        config,
        dataset_path,
        run_dir / "train",
        resume=True,  # a killed run of this very spec continues; train refuses any other
        progress=progress,
        label=f"{run.name} (seed {run.train.seed})",
    )
    numerics = numerics_in_force()  # measured inside the run: what it actually ran with
    with png_only():  # the report inlines the PNGs; an SVG of each run's figures is not worth its time
        diagnosis = run_diagnosis(
            dataset_path,
            trained.predictions,
            out_dir=run_dir / "diagnosis",
            config=replace(run.evaluation, seed=run.train.seed),  # each seed its own bootstrap
            progress=False,
            chamfer_matrix=chamfer_matrix,
            # a cache of local matrices; Ray's chamfer_matrix sends large ones to the cluster instead
            data_chamfer_matrix=None if chamfer_matrix is not None else shared_chamfer(out, chamfer_device()),
            save_matrices=True,
        )
    data = load_dataset(dataset_path, verify=False)
    train_morph = (
        None if data.morph is None else np.asarray(data.morph[np.asarray(data.splits["train"])], np.float64)
    )
    record = {
        "key": run.key,
        "name": run.name,
        "family": run.family,
        "n": run.n,
        "seed": run.train.seed,
        "labels": run.train.labels,
        "run": f"runs/{run.directory}",
        "diagnosis_dir": f"runs/{run.directory}/diagnosis",
        "dataset": str(dataset_path),
        "dataset_sha256": data.manifest.get("sha256"),
        "diagnosis_revision": diagnosis["provenance"]["diagnosis_revision"],
        **diagnosis_record(diagnosis),
        "training": {
            "best_epoch": trained.best_epoch,
            "best_val_chamfer": trained.best_val_chamfer,
            "scored_train_chamfer": trained.scored_train_chamfer,
            "baseline_train_chamfer": trained.baseline_train_chamfer,
            "trained": trained.trained,
            "epochs": trained.epochs,
            "seconds": trained.seconds,
            "device": str(resolve_device(config.device)),
            "threads": numerics["torch_threads"],
            "numerics": numerics,
            "precision": config.model.precision,
            "cpu": cpu_model(),
            "cpu_flags": list(cpu_flags()),  # whether bfloat16 ran natively (avx512_bf16, amx_bf16)
        },
        # Coverage of the training set in morph space (fig. 3): weights of the base shapes.
        "train_morph": None if train_morph is None else train_morph.round(5).tolist(),
        "train_clusters": None
        if data.labels is None or run.family is None
        else np.asarray(data.labels[np.asarray(data.splits["train"])]).tolist(),
        "seconds": time.perf_counter() - started,
    }
    write_json(run_dir / RESULT, record)
    return record


def diagnosis_record(diagnosis: dict) -> dict:
    """The numbers of a diagnosis that a sweep's results keep (no per-sample arrays)."""
    tendency_fields = ("score", "interval", "n_clusters", "confidence", "method", "clustered", "null")
    statistic = {k: v for k, v in diagnosis["statistic"].items() if k != "permutation_null"}
    return {
        "case": diagnosis["case"],
        "verdict": diagnosis["verdict"],
        "verdict_sentence": diagnosis["verdict_sentence"],
        "statistic": statistic,
        "statistic_model_free": diagnosis.get("statistic_model_free"),
        "sampling_floor": diagnosis["sampling_floor"],
        "sampling": diagnosis["sampling"],
        "evidence": diagnosis["evidence"],
        **{
            k: {f: diagnosis[k].get(f) for f in tendency_fields}
            for k in ("image_tendency", "shape_tendency", "output_tendency")
        },
        **{k: diagnosis[k] for k in ("model", "oracle_nn", "retrieval", "clustering")},
        "comparisons": diagnosis["comparisons"],
        "memorisation": diagnosis["memorisation"]["median"],
        "dispersion": dispersion_record(diagnosis.get("dispersion")),
        "copying": copying_record(diagnosis.get("copying")),
        "codeword_silhouette_by_label": (diagnosis.get("codewords") or {}).get("silhouette_by_label"),
        "conventions": diagnosis["conventions"],
    }


def dispersion_record(dispersion: dict | None) -> dict | None:
    """The dispersion score of a diagnosis, compact: per role (images, shapes, predictions, test
    truths) the score and interval per K, and the ratio per K."""
    if dispersion is None:
        return None
    roles = ("images", "shapes", "predictions", "test_truths")
    return {
        "ks": dispersion["ks"],
        "headline_k": dispersion["headline_k"],
        "ratio": [{k: r[k] for k in ("k", "value", "interval")} for r in dispersion["ratio"]],
        **{
            role: [{k: e[k] for k in ("k", "score", "interval")} for e in dispersion[role]["sweep"]]
            for role in roles
        },
        "image_distance": dispersion["images"]["distance"],
    }


def copying_record(copying: dict | None) -> dict | None:
    """The copying test of a diagnosis: C_T, its p-value, the global Z_U, the cells used."""
    if copying is None:
        return None
    return {
        "statistic": copying["statistic"],
        "p_value": copying["p_value"],
        "combined_z": copying["combined_z"],
        "global": {k: copying["global"][k] for k in ("z_u", "p_value")},
        "n_cells_used": copying["n_cells_used"],
        "undefined": copying.get("undefined"),
    }
