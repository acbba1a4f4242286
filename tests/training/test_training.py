import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from svrlens.data import SynthConfig, generate, load_dataset, save_dataset
from svrlens.errors import InputError
from svrlens.models import ModelConfig
from svrlens.training import TrainConfig, load_checkpoint, loop, lr_at, predict_images, train


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """60 cube↔sphere shapes at 32 px with 64 points; 28 train / 16 val / 16 test."""
    data = generate(SynthConfig(n_shapes=60, image_size=32, n_points=64, seed=1), progress=False)
    order = np.random.default_rng(0).permutation(60)
    splits = {"train": np.sort(order[:28]), "val": np.sort(order[28:44]), "test": np.sort(order[44:])}
    path = tmp_path_factory.mktemp("train") / "tiny"
    save_dataset(
        path,
        data.images,
        data.points,
        morph=data.morph,
        labels=data.labels,
        splits=splits,
        generator="test",
        parameters={},
        seed=1,
    )
    return path


def tiny_config(**changes):
    base = TrainConfig(
        epochs=4,
        batch_size=8,
        val_every=1,
        lr_milestones=(),
        model=ModelConfig(grid_size=8, decoder_width=16, decoder_blocks=1),
    )
    return replace(base, **changes)


def read_log(run):
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


def test_lr_step_decay():
    config = TrainConfig(epochs=100, lr=0.003, lr_milestones=(0.5, 0.8))
    assert [lr_at(e, config) for e in (0, 49, 50, 79, 80, 99)] == pytest.approx(
        [0.003, 0.003, 0.0003, 0.0003, 0.00003, 0.00003]
    )


def test_training_lowers_the_loss_and_writes_the_run(tiny_dataset, tmp_path):
    result = train(tiny_config(epochs=3), tiny_dataset, tmp_path / "run", progress=False)
    log = read_log(tmp_path / "run")
    assert [r["epoch"] for r in log] == [0, 1, 2]
    assert log[1]["train_chamfer"] < log[0]["train_chamfer"]
    for name in ("config.json", "best.pt", "last.pt", "predictions/test.npz"):
        assert (tmp_path / "run" / name).exists()
    with np.load(result.predictions, allow_pickle=False) as pred:
        assert (
            pred["points"].shape == (16, 64, 3)
            and pred["codewords"].shape == (16, 512)
            and pred["indices"].shape == (16,)
        )
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["grid_size"] == 8


def test_last_state_is_saved_by_time_after_the_first_and_last_epoch(tiny_dataset, tmp_path, monkeypatch):
    saved = []
    real_save = loop.BackgroundCheckpointer.save

    def recording_save(self, path, state):
        saved.append((path.name, state["epoch"]))
        return real_save(self, path, state)

    monkeypatch.setattr(loop.BackgroundCheckpointer, "save", recording_save)
    train(tiny_config(epochs=5), tiny_dataset, tmp_path / "slow", progress=False, checkpoint_seconds=3600)
    assert [epoch for name, epoch in saved if name == "last.pt"] == [0, 4]  # not every epoch
    saved.clear()
    train(tiny_config(epochs=3), tiny_dataset, tmp_path / "every", progress=False, checkpoint_seconds=0)
    assert [epoch for name, epoch in saved if name == "last.pt"] == [0, 1, 2]


def test_best_model_is_chosen_on_validation(tiny_dataset, tmp_path):
    result = train(tiny_config(epochs=5), tiny_dataset, tmp_path / "run", progress=False)
    log = read_log(tmp_path / "run")
    val = [r["val_chamfer"] for r in log]
    assert result.best_epoch == int(np.argmin(val)) and result.best_val_chamfer == pytest.approx(min(val))
    assert load_checkpoint(tmp_path / "run" / "best.pt")["epoch"] == result.best_epoch


def test_label_modes(tiny_dataset, tmp_path):
    train(
        tiny_config(epochs=4, labels="weak", weak_epochs=2), tiny_dataset, tmp_path / "weak", progress=False
    )
    assert [r["labels_used"] for r in read_log(tmp_path / "weak")] == [True, True, False, False]
    train(
        tiny_config(epochs=2, labels="weak", weak_epochs=2), tiny_dataset, tmp_path / "weak2", progress=False
    )
    after_weak = load_checkpoint(tmp_path / "weak2" / "last.pt")["model"]
    at_end = load_checkpoint(tmp_path / "weak" / "last.pt")["model"]
    # The class head gets no gradient after the weak epochs: it is exactly as it was then.
    torch.testing.assert_close(at_end["classifier.weight"], after_weak["classifier.weight"], rtol=0, atol=0)
    assert not torch.equal(at_end["encoder.conv1.weight"], after_weak["encoder.conv1.weight"])
    train(tiny_config(epochs=2, labels="full"), tiny_dataset, tmp_path / "full", progress=False)
    assert all(r["labels_used"] for r in read_log(tmp_path / "full"))


def test_deterministic_on_cpu(tiny_dataset, tmp_path):
    for run in ("a", "b"):
        train(tiny_config(epochs=2), tiny_dataset, tmp_path / run, progress=False)
    a = load_checkpoint(tmp_path / "a" / "best.pt")["model"]
    b = load_checkpoint(tmp_path / "b" / "best.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_an_existing_run_is_refused_unless_resume_or_force(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    train(tiny_config(epochs=1), tiny_dataset, run, progress=False)
    stamp = (run / "last.pt").stat().st_mtime_ns
    with pytest.raises(InputError, match="holds a training run; pass --resume to continue it or --force"):
        train(tiny_config(epochs=1), tiny_dataset, run, progress=False)
    with pytest.raises(InputError, match=r"different configuration \(lr: 0.003 → 0.1\)"):
        train(tiny_config(epochs=1, lr=0.1), tiny_dataset, run, resume=True, progress=False)
    assert (run / "last.pt").stat().st_mtime_ns == stamp  # refused before anything was written
    again = train(tiny_config(epochs=2), tiny_dataset, run, force=True, progress=False)
    assert again.resumed_at == 0 and [r["epoch"] for r in read_log(run)] == [0, 1]
    with pytest.raises(ValueError, match="at most one"):
        train(tiny_config(epochs=2), tiny_dataset, run, resume=True, force=True, progress=False)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("not a run")
    with pytest.raises(InputError, match="exists and is not a training run directory"):
        train(tiny_config(epochs=1), tiny_dataset, tmp_path / "notes", progress=False)


def _variant(dataset, path, *, labels):
    """A copy of ``dataset`` at ``path`` with ``labels(old labels)`` as its labels (a new manifest)."""
    data = load_dataset(dataset)
    new_labels = labels(np.asarray(data.labels))
    save_dataset(
        path,
        np.asarray(data.images),
        np.asarray(data.points),
        morph=np.asarray(data.morph),
        labels=None if new_labels is None else np.ascontiguousarray(new_labels),
        splits=data.splits,
        generator="test",
        parameters={},
        seed=1,
    )
    return path


def _killed_in_epoch(monkeypatch, killed_epoch):
    """Make training raise KeyboardInterrupt when it reaches ``killed_epoch``."""
    real = loop.lr_at

    def lr_at(epoch, config):
        if epoch == killed_epoch:
            raise KeyboardInterrupt("killed")
        return real(epoch, config)

    monkeypatch.setattr(loop, "lr_at", lr_at)
    return lambda: monkeypatch.setattr(loop, "lr_at", real)


def test_resume_refuses_another_dataset(tiny_dataset, tmp_path, monkeypatch):
    """The issue's case: training set 1.2.1 into 1.2.7's run directory must not reuse 1.2.7's run."""
    other = _variant(tiny_dataset, tmp_path / "other", labels=lambda labels: labels[::-1])
    run = tmp_path / "run"
    revive = _killed_in_epoch(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(epochs=2), tiny_dataset, run, progress=False)
    revive()
    recorded = json.loads((run / "dataset.json").read_text())
    with pytest.raises(InputError, match="holds a run trained on another dataset") as error:
        train(tiny_config(epochs=2), other, run, resume=True, progress=False)
    assert str(run) in str(error.value) and "\n" not in str(error.value)
    assert json.loads((run / "dataset.json").read_text()) == recorded
    resumed = train(tiny_config(epochs=2), tiny_dataset, run, resume=True, progress=False)
    assert resumed.resumed_at == 1 and [r["epoch"] for r in read_log(run)] == [0, 1]
    assert resumed.seconds >= sum(r["seconds"] for r in read_log(run))  # the run's time, not the call's


def test_a_failed_train_leaves_no_directory(tiny_dataset, tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no such dataset directory"):
        train(tiny_config(), tmp_path / "missing", tmp_path / "run", progress=False)
    no_labels = _variant(tiny_dataset, tmp_path / "no-labels", labels=lambda labels: None)
    with pytest.raises(InputError, match="needs labels.npy"):
        train(tiny_config(labels="full"), no_labels, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()

    _killed_in_epoch(monkeypatch, 0)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(), tiny_dataset, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()  # killed before the first checkpoint: nothing to resume


def test_training_leaves_the_callers_random_state_alone(tiny_dataset, tmp_path):
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    first = train(tiny_config(epochs=1), tiny_dataset, tmp_path / "a", progress=False)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(99)  # another caller state: the same run
    train(tiny_config(epochs=1), tiny_dataset, tmp_path / "b", progress=False)
    a = load_checkpoint(first.out_dir / "best.pt")["model"]
    b = load_checkpoint(tmp_path / "b" / "best.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def _cli(*args):
    return [sys.executable, "-m", "svrlens", *map(str, args)]


def test_sigkill_and_resume_equals_an_uninterrupted_run(tiny_dataset, tmp_path):
    common = ["--epochs", "8", "--image-size", "32", "--batch-size", "8", "--quiet"]
    subprocess.run(_cli("train", tiny_dataset, "--out", tmp_path / "full", *common), check=True, timeout=600)
    process = subprocess.Popen(_cli("train", tiny_dataset, "--out", tmp_path / "killed", *common))
    deadline = time.time() + 300
    log = tmp_path / "killed" / "log.jsonl"
    while time.time() < deadline and process.poll() is None:
        if log.exists() and len(log.read_text().splitlines()) >= 3:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    resume = _cli("train", tiny_dataset, "--out", tmp_path / "killed", "--resume", *common)
    subprocess.run(resume, check=True, timeout=600)
    full = load_checkpoint(tmp_path / "full" / "best.pt")
    resumed = load_checkpoint(tmp_path / "killed" / "best.pt")
    assert full["epoch"] == resumed["epoch"]
    assert all(torch.equal(full["model"][k], resumed["model"][k]) for k in full["model"])
    assert [r["epoch"] for r in read_log(tmp_path / "killed")] == list(range(8))
    with (
        np.load(tmp_path / "full" / "predictions" / "test.npz") as a,
        np.load(tmp_path / "killed" / "predictions" / "test.npz") as b,
    ):
        np.testing.assert_array_equal(a["points"], b["points"])


def test_predict_cli_and_errors(tiny_dataset, tmp_path):
    train(tiny_config(epochs=1), tiny_dataset, tmp_path / "run", progress=False)
    checkpoint = tmp_path / "run" / "best.pt"
    images = np.random.default_rng(0).integers(0, 255, (3, 48, 48, 3), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    result = subprocess.run(
        _cli("predict", checkpoint, tmp_path / "images.npy", "--out", tmp_path / "pred.npz"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "svrlens: warning: images are 48x48; resizing to the model's 32x32" in result.stderr
    with np.load(tmp_path / "pred.npz", allow_pickle=False) as pred:
        assert pred["points"].shape == (3, 64, 3)
    points, _ = predict_images(checkpoint, images[:, :32, :32])
    assert points.shape == (3, 64, 3)
    (tmp_path / "bad.pt").write_bytes(b"\x00not a checkpoint")
    np.save(tmp_path / "gray.npy", np.zeros((2, 32, 32), np.uint8))
    cases = [
        (
            _cli("predict", tmp_path / "bad.pt", tmp_path / "images.npy", "--out", tmp_path / "p.npz"),
            "bad.pt: not a readable svrlens checkpoint",
        ),
        (
            _cli("predict", checkpoint, tmp_path / "gray.npy", "--out", tmp_path / "p.npz"),
            "gray.npy: expected uint8 images (N, H, W, 3)",
        ),
        (_cli("train", tmp_path / "missing", "--out", tmp_path / "r"), "missing: no such dataset directory"),
        (
            _cli("train", tiny_dataset, "--out", tmp_path / "r", "--labels", "some"),
            "argument --labels: invalid choice",
        ),
        (
            _cli("train", tiny_dataset, "--out", tmp_path / "r", "--image-size", "8"),
            "--image-size: expected a value ≥ 32, found 8",
        ),
    ]
    for command, message in cases:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr


def test_batch_bounds_never_leave_a_batch_of_one():
    from svrlens.training.loop import batch_bounds

    assert batch_bounds(20, 32) == [(0, 20)]
    assert batch_bounds(100, 32) == [(0, 32), (32, 64), (64, 96), (96, 100)]
    assert batch_bounds(33, 32) == [(0, 33)]  # a last batch of one joins the one before
    assert batch_bounds(65, 32) == [(0, 32), (32, 65)]
    for n in range(2, 80):
        bounds = batch_bounds(n, 8)
        assert bounds[0][0] == 0 and bounds[-1][1] == n and all(b - a >= 2 for a, b in bounds)
        assert all(stop == start for (_, stop), (start, _) in zip(bounds, bounds[1:]))


def test_background_checkpoints_are_snapshots_written_in_order(tmp_path):
    from svrlens.training.checkpoint import BackgroundCheckpointer

    weights = torch.zeros(1000)
    state = {"model": {"w": weights}, "config": {}, "epoch": 0, "nested": [weights]}
    with BackgroundCheckpointer() as checkpointer:
        for epoch in range(5):
            weights += 1  # training mutates tensors in place right after save() returns
            checkpointer.save(tmp_path / "last.pt", state | {"epoch": epoch})
            weights.mul_(100)
    saved = load_checkpoint(tmp_path / "last.pt")
    assert saved["epoch"] == 4
    expected = torch.zeros(1000)
    for _ in range(5):
        expected += 1
        snapshot = expected.clone()
        expected.mul_(100)
    assert torch.equal(saved["model"]["w"], snapshot) and torch.equal(saved["nested"][0], snapshot)
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary files left
    assert oct(os.stat(tmp_path / "last.pt").st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_background_checkpoint_errors_reach_the_training_thread(tmp_path):
    from svrlens.training.checkpoint import BackgroundCheckpointer

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InputError, match="last.pt: cannot write"):  # named, in the training thread
        with BackgroundCheckpointer() as checkpointer:
            checkpointer.save(blocker / "sub" / "last.pt", {"model": {}, "config": {}})  # parent is a file


@pytest.fixture(scope="module")
def set_1_2_7(tmp_path_factory):
    """Set 1.2.7 of base #1 at the laptop preset's 64 px (training on 20 images)."""
    from svrlens.data import write_set

    base = generate(SynthConfig(n_shapes=1000, image_size=64, dense_points=0, seed=0), progress=False)
    return write_set(base, "1.2", 7, tmp_path_factory.mktemp("sets") / "1.2.7")


def _short_run(dataset, out):
    from svrlens.training import preset

    return train(preset("laptop", epochs=20), dataset, out, progress=False)


def test_precise_batch_norm_makes_short_runs_validate_sensibly(set_1_2_7, tmp_path, monkeypatch):
    """A 20-epoch 1.2.7 run once validated at Chamfer 16.8 against a training Chamfer of 0.42:
    eval-mode batch norm used running statistics one update per epoch behind the weights. With
    the statistics recomputed over the training set before each validation, validation is within
    2x of training; without (the same run, recomputation disabled), it is not."""
    from svrlens.training import loop

    result = _short_run(set_1_2_7, tmp_path / "precise")
    last = read_log(tmp_path / "precise")[-1]
    assert last["val_chamfer"] <= 2 * last["train_chamfer"]
    assert np.isfinite(result.scored_train_chamfer) and np.isfinite(result.baseline_train_chamfer)
    monkeypatch.setattr(loop, "recompute_batch_norm", lambda *args, **kwargs: None)
    _short_run(set_1_2_7, tmp_path / "lagging")
    last = read_log(tmp_path / "lagging")[-1]
    assert last["val_chamfer"] > 2 * last["train_chamfer"]


def test_a_model_that_did_not_train_is_flagged(tiny_dataset, tmp_path):
    result = train(tiny_config(epochs=1, lr=1e-9), tiny_dataset, tmp_path / "run", progress=False)
    assert result.trained is False and result.scored_train_chamfer >= result.baseline_train_chamfer


def test_bfloat16_training_and_its_warning_without_bfloat16_arithmetic(tiny_dataset, tmp_path, monkeypatch):
    config = tiny_config(epochs=3, model=replace(tiny_config().model, precision="bfloat16"))
    result = train(config, tiny_dataset, tmp_path / "bf16", progress=False)
    log = read_log(tmp_path / "bf16")
    assert log[1]["train_chamfer"] < log[0]["train_chamfer"] and np.isfinite(log[-1]["val_chamfer"])
    with np.load(result.predictions, allow_pickle=False) as pred:
        points = pred["points"]
    assert points.dtype == np.float32
    widened = torch.from_numpy(points).bfloat16().float().numpy()
    assert (points != widened).mean() > 0.9  # float32 coordinates, not bfloat16 ones
    monkeypatch.setattr(loop, "native_bfloat16", lambda: False)
    with pytest.warns(UserWarning, match="emulated, slower than float32"):
        train(replace(config, epochs=1), tiny_dataset, tmp_path / "emulated", progress=False)


def test_a_run_saved_before_the_precision_option_resumes(tiny_dataset, tmp_path):
    """Checkpoints and config.json written before ``ModelConfig.precision`` existed lack it; they
    are read with its float32 default, so such a run resumes instead of being refused."""
    from svrlens.training import save_checkpoint

    run = tmp_path / "run"
    train(tiny_config(epochs=2), tiny_dataset, run, progress=False)
    state = load_checkpoint(run / "last.pt")
    del state["config"]["model"]["precision"]
    save_checkpoint(run / "last.pt", state)
    stored = json.loads((run / "config.json").read_text())
    del stored["model"]["precision"]
    (run / "config.json").write_text(json.dumps(stored))
    again = train(tiny_config(epochs=2), tiny_dataset, run, resume=True, progress=False)
    assert again.resumed_at == 2 and [r["epoch"] for r in read_log(run)] == [0, 1]
    bf16 = tiny_config(epochs=2, model=replace(tiny_config().model, precision="bfloat16"))
    with pytest.raises(InputError, match=r"configuration \(model.precision: 'float32' → 'bfloat16'\)"):
        train(bf16, tiny_dataset, run, resume=True, progress=False)


def test_train_cli_precision_option(tiny_dataset, tmp_path):
    from svrlens.cli import main

    args = ["train", str(tiny_dataset), "--out", str(tmp_path / "run"), "--epochs", "1", "--image-size", "32",
            "--grid-size", "4", "--decoder-width", "8", "--quiet"]  # fmt: skip
    assert main([*args, "--precision", "bfloat16"]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["model"]["precision"] == "bfloat16"
    with pytest.raises(SystemExit) as refused:
        main([*args, "--precision", "float16"])
    assert refused.value.code == 2
