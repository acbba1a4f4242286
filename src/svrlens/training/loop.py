"""The training loop (nanoGPT-style: setup, data, model, resume, evaluate, the loop), and prediction.

A run directory (:mod:`svrlens.training.rundir`) holds ``last.pt`` (everything needed to resume:
model, optimizer, RNG states, epoch, best validation), ``best.pt`` (the model with the lowest
validation Chamfer — never chosen on test), the per-epoch log and the test predictions.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from svrlens._machine import EMULATED_BFLOAT16_SLOWDOWN, native_bfloat16
from svrlens.data import Dataset
from svrlens.data.folder import open_dataset
from svrlens.errors import InputError
from svrlens.geometry import chamfer_distance, fscore
from svrlens.io import write_json, write_text
from svrlens.models import ReconstructionNet, build_model

from .checkpoint import BackgroundCheckpointer, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .predict import predict, save_predictions, to_input
from .rundir import claim_run_dir, remove_run_files, resume_log
from .trained import trained_check


@dataclass
class RunResult:
    """What a training run ends with. ``trained`` is False when the best model's score on its
    own training split, ``scored_train_chamfer``, is not below ``baseline_train_chamfer`` — the
    best *single* training shape predicted for every training image (a model that learnt
    nothing reaches that) — or is not finite; both are scored the same way
    (:func:`trained_check`). ``best_val_chamfer`` is the model-selection score (against the
    validation clouds)."""

    out_dir: Path
    best_epoch: int
    best_val_chamfer: float
    epochs: int
    seconds: float  # the run's wall time, earlier invocations of a resumed run included
    predictions: Path
    baseline_train_chamfer: float = float("nan")
    trained: bool = True
    scored_train_chamfer: float = float("nan")
    resumed_at: int = 0  # the first epoch this invocation trained (0: a new run)


# Seconds between checkpoints of the last state: writing 137 MB (the laptop model with Adam's state)
# after each of 600 epochs of 20 images cost as much as training them (measured, bench_train.py).
CHECKPOINT_SECONDS = 60.0

# What a run directory holds; ``force`` removes exactly these, nothing else of the directory.


def resolve_device(name: str) -> torch.device:
    """The torch device of a config's ``device`` ("auto": CUDA when present).

    Raises
    ------
    InputError
        A CUDA (or MPS) device that this machine does not have, named as the user wrote it.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and (
        not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()
    ):
        found = torch.cuda.device_count() if torch.cuda.is_available() else 0
        raise InputError(f"device: expected a CUDA device this machine has ({found}), found {name!r}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device: expected an MPS device, found none for {name!r}")
    return device


def lr_at(epoch: int, config: TrainConfig) -> float:
    """Step decay: ×``lr_decay`` at each milestone (a fraction of the epochs) already passed."""
    passed = sum(epoch >= int(round(m * config.epochs)) for m in config.lr_milestones)
    return config.lr * config.lr_decay**passed


@torch.no_grad()
def recompute_batch_norm(model: ReconstructionNet, images: np.ndarray, config: TrainConfig, device) -> None:
    """ "Precise BN": replace every batch-norm layer's running statistics by their average over
    the training set, computed in train mode batch by batch, before validating.

    Why: running statistics are an exponential average with momentum 0.1 over the batches of
    *past* weights; on a 20-sample set that is one update per epoch, so for the first tens of
    epochs eval mode normalises with statistics of weights long gone (measured: a 20-epoch 1.2.7
    run ended at train Chamfer 0.42 and validation Chamfer 16.8). Training itself is unchanged
    (train mode never reads the running statistics), so resumes stay bitwise exact.

    The batches are a seeded random permutation of the training set, as in training: averaging
    the variances of batches drawn *in storage order* misses the variance between them, and
    datasets are often stored by class (the synthetic families are). Measured on a laptop 1.1.1
    model: storage-order batches of 32 gave validation Chamfer 0.251, random batches of 32 0.130,
    one batch of all 100 training images 0.128. The permutation uses its own generator (seed
    ``config.seed``), so the training order is untouched. Each batch's statistics weigh by its
    size (a short last batch counts for its samples, not as much as a full one).
    """
    layers = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in layers]
    for layer in layers:
        layer.reset_running_stats()
    was_training = model.training
    model.train()
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(config.seed)).numpy()
    seen = 0
    for start, stop in batch_bounds(len(images), config.batch_size):
        for layer in layers:  # each batch weighs by its size: a running mean over samples, not batches
            layer.momentum = (stop - start) / (seen + stop - start)
        seen += stop - start
        model(to_input(images[np.sort(order[start:stop])], config.image_size, device))
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum
    model.train(was_training)


@torch.no_grad()
def evaluate(model, data: Dataset, config: TrainConfig, device) -> dict:
    """Mean Chamfer (eq. 2) and F-score at ``config.fscore_threshold`` on a split."""
    points, _ = predict(model, data.images, image_size=config.image_size, device=device)
    target = torch.as_tensor(np.asarray(data.points))
    prediction = torch.from_numpy(points)
    return {
        "chamfer": float(chamfer_distance(prediction, target).mean()),
        "fscore": float(fscore(prediction, target, config.fscore_threshold).fscore.mean()),
    }


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """(start, stop) of each batch; a last batch of one sample joins the one before, because
    batch normalisation of the per-cloud decoder term needs at least two clouds."""
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return list(zip(starts, starts[1:] + [n]))


def _uses_labels(config: TrainConfig, epoch: int) -> bool:
    return config.labels == "full" or (config.labels == "weak" and epoch < config.weak_epochs)


def _cuda_devices(device: torch.device) -> list[int]:
    return [device.index or 0] if device.type == "cuda" else []


def train(
    config: TrainConfig,
    dataset,
    out_dir,
    *,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    label: str | None = None,
    checkpoint_seconds: float = CHECKPOINT_SECONDS,
) -> RunResult:
    """Train on ``dataset`` into ``out_dir``: a :class:`Dataset`, a svrlens dataset directory (made by
    ``data synth``, ``data subsample`` or ``data build``), a user folder (``images/`` +
    ``shapes/``) or a What3D / Occupancy Networks folder (:func:`svrlens.data.folder.open_dataset`).

    ``out_dir`` must not hold a run, unless ``resume``: continue it from ``last.pt`` (on the CPU
    the result is bitwise that of an uninterrupted run), provided it was started with the same
    configuration on the same dataset (same manifest hash, else same path); or ``force``:
    replace it (its run files are deleted; other files stay). The dataset and configuration are
    validated before ``out_dir`` is touched, and a run that fails before its first checkpoint
    leaves no directory behind. The caller's torch random state is left as it was: the run
    seeds (and on resume restores) a forked generator. ``label`` names the run in the progress bar.
    ``last.pt`` is written when ``checkpoint_seconds`` (default 60 s) have passed since the last one,
    and after the first and the last epoch: a kill loses at most that much training (and nothing of
    the result).

    Raises
    ------
    InputError
        A bad dataset, or an ``out_dir`` that the request may not use (see above).
    ValueError
        An invalid configuration, or both ``resume`` and ``force``.
    """
    config.validate()
    if resume and force:
        raise ValueError("resume and force: expected at most one of them, found both")
    device = resolve_device(config.device)
    out = Path(out_dir)
    created = not out.exists()
    try:
        with torch.random.fork_rng(devices=_cuda_devices(device)):
            return _train(
                config,
                dataset,
                out,
                device,
                resume,
                force,
                progress=progress,
                label=label,
                checkpoint_seconds=checkpoint_seconds,
            )
    except BaseException:
        if out.is_dir() and not (out / "last.pt").exists():  # nothing to resume: leave nothing of it
            remove_run_files(out)
            if created:
                shutil.rmtree(out, ignore_errors=True)
        raise


def _train_epoch(model, optimizer, generator, train_set, train_labels, config, epoch, device) -> dict:
    """One epoch over the training split in a seeded random order; its log record."""
    lr = lr_at(epoch, config)
    for group in optimizer.param_groups:
        group["lr"] = lr
    model.train()
    images, points = np.asarray(train_set.images), torch.as_tensor(np.asarray(train_set.points))
    labels_used = train_labels is not None and _uses_labels(config, epoch)
    order = torch.randperm(len(train_set), generator=generator)
    total, seen = 0.0, 0
    for start, stop in batch_bounds(len(train_set), config.batch_size):
        index = order[start:stop]
        predicted, codewords = model(to_input(images[index.numpy()], config.image_size, device))
        loss = chamfer_distance(predicted, points[index].to(device)).mean()
        objective = loss
        if labels_used:
            objective = loss + config.label_weight * F.cross_entropy(
                model.classify(codewords), train_labels[index].to(device)
            )
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        optimizer.step()
        total += loss.item() * len(index)  # .item() syncs with the GPU once per batch
        seen += len(index)
    return {"epoch": epoch, "train_chamfer": total / seen, "lr": lr, "labels_used": labels_used}


def _train(
    config, dataset, out: Path, device, resume, force, *, progress, label, checkpoint_seconds
) -> RunResult:
    started = time.perf_counter()
    torch.manual_seed(config.seed)

    # Data, validated before the run directory is touched
    data = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    if len(data.splits.get("train", [])) < 2:
        raise InputError(
            f"expected ≥ 2 training samples (batch normalisation), found {len(data.splits.get('train', []))}",
            data.path,
        )
    train_set = data.subset("train")
    val_set = data.subset("val") if len(data.splits.get("val", [])) else None
    n_classes = 0
    if config.labels != "none":
        if data.labels is None:
            raise InputError(
                f"labels mode {config.labels!r} needs labels.npy, the dataset has none", data.path
            )
        n_classes = int(np.max(data.labels)) + 1
    train_images = np.asarray(train_set.images)
    input_size = int(config.image_size or train_images.shape[1])  # what the encoder sees; saved for predict
    train_labels = None if n_classes == 0 else torch.as_tensor(np.asarray(train_set.labels))
    dataset_record = {
        "path": str(Path(data.path).resolve()) if data.path else None,
        "sha256": data.manifest.get("sha256"),
    }

    if config.model.precision == "bfloat16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise InputError(f"precision bfloat16: the GPU {torch.cuda.get_device_name(device)} has no bfloat16")
    if config.model.precision == "bfloat16" and device.type == "cpu" and not native_bfloat16():
        warnings.warn(
            "precision bfloat16 on a CPU without bfloat16 arithmetic (no avx512_bf16, amx_bf16): "
            f"emulated, slower than float32 (the laptop model trained {EMULATED_BFLOAT16_SLOWDOWN}x slower "
            "on an AVX2-only CPU)",
            stacklevel=3,
        )
    # Model, optimizer, and resume (an explicit request, checked against the run directory)
    model = build_model(replace(config.model, n_classes=n_classes)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    start_epoch, best, earlier_seconds = 0, {"epoch": -1, "val_chamfer": float("inf")}, 0.0
    log_path = out / "log.jsonl"
    state = claim_run_dir(out, config, dataset_record, resume=resume, force=force, device=device)
    out.mkdir(parents=True, exist_ok=True)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        start_epoch, best = state["epoch"] + 1, state["best"]
        earlier_seconds = resume_log(log_path, state["epoch"])
    else:
        write_json(out / "config.json", config.to_dict())
        write_json(out / "dataset.json", dataset_record)
        write_text(log_path, "")

    # The loop
    bar = tqdm(
        range(start_epoch, config.epochs),
        disable=not progress,
        unit="epoch",
        desc=f"train {label or out.name}",
        initial=start_epoch,
        total=config.epochs,
    )
    weights = {"config": config.to_dict(), "n_classes": n_classes, "input_size": input_size}
    last_checkpoint = time.perf_counter()
    with BackgroundCheckpointer() as checkpointer:
        for epoch in bar:
            tic = time.perf_counter()
            record = _train_epoch(model, optimizer, generator, train_set, train_labels, config, epoch, device)
            if val_set is not None and ((epoch + 1) % config.val_every == 0 or epoch == config.epochs - 1):
                recompute_batch_norm(model, train_images, config, device)
                metrics = evaluate(model, val_set, config, device)
                record.update(val_chamfer=metrics["chamfer"], val_fscore=metrics["fscore"])
                if metrics["chamfer"] < best["val_chamfer"]:
                    best = {
                        "epoch": epoch,
                        "val_chamfer": metrics["chamfer"],
                        "val_fscore": metrics["fscore"],
                    }
                    checkpointer.save(
                        out / "best.pt",
                        {"model": model.state_dict(), **weights, "epoch": epoch, "best": best},
                    )
            record["seconds"] = time.perf_counter() - tic
            with open(log_path, "a") as handle:
                handle.write(json.dumps(record) + "\n")
            # The first epoch too, so that even a kill in the first minute leaves a run to resume.
            due = time.perf_counter() - last_checkpoint >= checkpoint_seconds
            if due or epoch in (start_epoch, config.epochs - 1):  # 137 MB (laptop model with Adam's state)
                last_checkpoint = time.perf_counter()
                checkpointer.save(
                    out / "last.pt",
                    {
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "generator": generator.get_state(),
                        "torch_rng": torch.get_rng_state(),
                        **weights,
                        "epoch": epoch,
                        "best": best,
                    },
                )
            val = f"{best['val_chamfer']:.4f}" if np.isfinite(best["val_chamfer"]) else "–"  # none yet
            bar.set_postfix(loss=f"{record['train_chamfer']:.4f}", val=val)

    # Predictions of the best model on the test split
    if not (out / "best.pt").exists():  # no validation split: the last model is the best we have
        recompute_batch_norm(model, train_images, config, device)
        save_checkpoint(
            out / "best.pt",
            {"model": model.state_dict(), **weights, "epoch": config.epochs - 1, "best": best},
        )
    model.load_state_dict(load_checkpoint(out / "best.pt", map_location=device)["model"])
    test_index = np.asarray(data.splits.get("test", []), np.int64)
    points, codewords = (
        predict(model, np.asarray(data.images)[test_index], image_size=config.image_size, device=device)
        if len(test_index)
        else (
            np.zeros((0, (config.model.eval_grid_size or config.model.grid_size) ** 2, 3), np.float32),
            np.zeros((0, 512), np.float32),
        )
    )
    predictions = save_predictions(out / "predictions" / "test.npz", points, codewords, test_index)
    achieved, baseline = trained_check(model, train_set, train_set, config, device)
    trained = bool(np.isfinite(achieved) and achieved < baseline)
    return RunResult(
        out,
        int(best["epoch"]),
        float(best["val_chamfer"]),
        config.epochs,
        earlier_seconds + time.perf_counter() - started,
        predictions,
        baseline,
        trained,
        scored_train_chamfer=achieved,
        resumed_at=start_epoch,
    )
