"""A training run's directory: what it holds, and whether a request may use it.

``config.json``, ``dataset.json`` (the dataset's path and hashes), ``log.jsonl`` (one line per
epoch), ``last.pt``, ``best.pt`` and ``predictions/test.npz``. An existing run is continued only on
request (``resume``), and only with the same configuration and dataset; it is replaced only on
request (``force``); a directory that is not a run is never written into unasked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from svrlens.errors import InputError
from svrlens.io import read_json, write_text

from .checkpoint import load_checkpoint
from .config import TrainConfig

RUN_FILES = ("config.json", "dataset.json", "log.jsonl", "last.pt", "best.pt", "predictions/test.npz")


def read_log(log_path: Path) -> list[dict]:
    """The records of a ``log.jsonl``. A torn *last* line (a kill while it was appended) is
    dropped; any other line that is not a JSON object with an integer ``epoch`` is an InputError
    naming the file and the line."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if (
            not isinstance(record, dict)
            or isinstance(record.get("epoch"), bool)
            or not isinstance(record.get("epoch"), int)
        ):
            if number == len(lines) and record is None:
                break  # torn by a kill mid-append: the checkpoint of that epoch was not written either
            raise InputError(f"line {number}: expected a JSON object with an integer 'epoch'", log_path)
        records.append(record)
    return records


def resume_log(log_path: Path, last_epoch: int) -> float:
    """Drop log lines of epochs after the checkpoint (a kill between logging and saving) and a torn
    last line, rewriting the log atomically; return the seconds the kept epochs took."""
    if not log_path.exists():
        return 0.0
    kept = [r for r in read_log(log_path) if r["epoch"] <= last_epoch]
    write_text(log_path, "".join(json.dumps(r) + "\n" for r in kept))
    seconds = [r.get("seconds", 0.0) for r in kept]
    return float(sum(s for s in seconds if isinstance(s, (int, float))))


def _differences(found: dict, expected: dict, prefix: str = "") -> list[str]:
    """``key: found → expected`` for every leaf that differs between two config dicts."""
    out = []
    for key in sorted(set(found) | set(expected)):
        a, b = found.get(key), expected.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} → {b!r}")
    return out


def _fingerprint(hashes) -> str:
    """12 hex digits standing for a manifest's per-file SHA-256 table (for messages)."""
    if not hashes:
        return "none"
    return hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()[:12]


def remove_run_files(out: Path) -> None:
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    if (out / "predictions").is_dir() and not any((out / "predictions").iterdir()):
        (out / "predictions").rmdir()


def claim_run_dir(out: Path, config: TrainConfig, dataset: dict, *, resume: bool, force: bool, device):
    """Check ``out`` against the request; returns the checkpoint (on ``device``) to resume
    from, or None.

    Raises InputError (one line, naming ``out``) when ``out`` holds a run and neither ``resume``
    nor ``force`` is given, when ``resume`` meets another configuration or dataset, or when
    ``out`` is a non-empty directory that is not a run (it is never written into unasked).
    """
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory; use another --out", out)
    holds_run = any((out / name).exists() for name in RUN_FILES)
    if out.is_dir() and not holds_run and any(out.iterdir()) and not force:
        raise InputError("exists and is not a training run directory; use another --out or --force", out)
    if not holds_run:
        return None
    if force:
        remove_run_files(out)
        return None
    if not resume:
        raise InputError("holds a training run; pass --resume to continue it or --force to start over", out)
    recorded = read_dataset_record(out / "dataset.json") if (out / "dataset.json").is_file() else {}
    same_data = (
        recorded.get("sha256") == dataset["sha256"]
        if recorded.get("sha256") and dataset["sha256"]
        else recorded.get("path") == dataset["path"]
    )
    if not same_data:
        raise InputError(
            f"holds a run trained on another dataset ({recorded.get('path')}, hashes "
            f"{_fingerprint(recorded.get('sha256'))}), not on {dataset['path']} (hashes "
            f"{_fingerprint(dataset['sha256'])}); use another --out, or --force to start over",
            out,
        )
    state = load_checkpoint(out / "last.pt", map_location=device) if (out / "last.pt").exists() else None
    source = out / ("last.pt" if state is not None else "config.json")
    saved = state["config"] if state is not None else read_json(source)
    try:
        stored = TrainConfig.from_dict(saved)
    except ValueError as error:
        raise InputError(f"a malformed stored configuration ({error})", source) from None
    if state is not None:
        _check_resume_state(state, source)
    # Compared parsed: a run saved before an option existed holds that option's default.
    changed = _differences(stored.to_dict(), config.to_dict())
    if changed:
        raise InputError(
            f"holds a run with a different configuration ({'; '.join(changed[:3])}); "
            "use the run's options, another --out, or --force to start over",
            out,
        )
    return state


def read_dataset_record(path) -> dict:
    """A run's ``dataset.json``: ``{"path": str or null, "sha256": {file: hex digest} or null}``,
    each field checked; errors name the file and the field."""
    record = read_json(path)
    if not isinstance(record, dict):
        raise InputError(f"expected an object with 'path' and 'sha256', found {type(record).__name__}", path)
    if record.get("path") is not None and not isinstance(record["path"], str):
        raise InputError(f"path: expected a string, found {record['path']!r}", path)
    hashes = record.get("sha256")
    if hashes is not None and (
        not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values())
    ):
        raise InputError(
            f"sha256: expected an object of file name → hex digest, found {hashes!r}"[:200], path
        )
    return record


def _check_resume_state(state: dict, path) -> None:
    """The fields of ``last.pt`` that a resume uses, checked before any of them is."""
    checks = {
        "epoch": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "best": lambda v: isinstance(v, dict) and "epoch" in v and "val_chamfer" in v,
        "optimizer": lambda v: isinstance(v, dict),
        "generator": lambda v: isinstance(v, torch.Tensor) and v.dtype == torch.uint8,
        "torch_rng": lambda v: isinstance(v, torch.Tensor) and v.dtype == torch.uint8,
    }
    for name, valid in checks.items():
        if name not in state or not valid(state[name]):
            raise InputError(f"{name}: missing or malformed (not a checkpoint to resume from)", path)
