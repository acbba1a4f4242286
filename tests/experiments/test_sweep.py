import json
from dataclasses import replace

import numpy as np
import pytest

from svrlens.experiments import SerialExecutor, check_paper_result, reproduce, sweep
from svrlens.training import loop

from .conftest import TENDENCIES, numbers, tiny_spec


def test_sweep_writes_every_number_the_issue_asks_for(serial_sweep):
    out, results = serial_sweep
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(results))
    assert list(results["datasets"]) == ["1.2.1", "1.2.7"]
    for entry in results["datasets"].values():
        for key in TENDENCIES:
            low, high = entry[key]["interval"]
            assert low <= entry[key]["score"] <= high and -1 <= low <= high <= 1
        for key in ("model", "oracle_nn"):
            low, high = entry[key]["chamfer_interval"]
            assert 0 <= low <= entry[key]["chamfer"] <= high
            assert len(entry[key]["fscore"]) == len(entry[key]["fscore_interval"]) == 2
        assert entry["case"] in (1, 2, 3, 4)
        assert entry["verdict"] in ("recognition", "reconstruction", "mixed", "collapsed")
        low, high = entry["statistic"]["interval"]
        assert low <= entry["statistic"]["score"] <= high and entry["sampling_floor"] > 0
        # Three epochs of a tiny model: no better than one shape for every image, and flagged.
        assert entry["trained"] is False and entry["untrained_seeds"] == [0]
        # 1.2.n targets are the two end shapes only: the training shapes are perfectly clustered.
        assert entry["shape_tendency"]["score"] == pytest.approx(1.0)
        run = out / entry["runs"][0]
        assert (
            (run / "result.json").is_file()
            and (run / "train" / "best.pt").is_file()
            and (run / "diagnosis" / "matrices.npz").is_file()
        )
        assert json.loads((run / "spec.json").read_text())["key"] == run.name.rsplit("-", 1)[1]
    # Coverage (fig. 3): 1.2.1's images sit at the two ends, 1.2.7's spread over [0, 1].
    t1 = np.asarray(results["datasets"]["1.2.1"]["train_morph"])[:, 1]
    t7 = np.asarray(results["datasets"]["1.2.7"]["train_morph"])[:, 1]
    assert np.ptp(t7[:10]) > 0.3 > np.ptp(t1[:10])
    checks = results["checks"]  # two sets: too few for a rank correlation; no check passes unmade
    assert checks["rising_1.2"]["status"] == "not made" and not checks["passed"]
    prov = results["provenance"]
    assert (
        prov["runs"] == 2
        and prov["runs_skipped"] == 0
        and prov["executor"] == "serial"
        and prov["threads_per_run"] == 1
    )
    assert prov["svrlens_version"] and prov["hardware"]["cpu_count"] >= 1


def test_rerun_skips_finished_runs(serial_sweep):
    out, results = serial_sweep
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/train/last.pt")}
    again = reproduce(tiny_spec(), out, executor=SerialExecutor(threads=1), progress=False)
    assert again["provenance"]["runs_skipped"] == 2
    assert numbers(again) == numbers(results)
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/train/last.pt")} == stamps


def test_an_older_diagnosis_is_rediagnosed_not_retrained(serial_sweep, tmp_path):
    """A run diagnosed by an older diagnosis revision runs its diagnosis again and keeps its
    training: checkpoints and log untouched, the same numbers, the current revision recorded."""
    import shutil

    from svrlens.evaluation.config import DIAGNOSIS_REVISION

    source, results = serial_sweep
    out = tmp_path / "sweep"
    shutil.copytree(source, out)
    (old,) = out.glob("runs/1.2.7-*/result.json")
    record = json.loads(old.read_text())
    assert record["diagnosis_revision"] == DIAGNOSIS_REVISION
    old.write_text(json.dumps(record | {"diagnosis_revision": DIAGNOSIS_REVISION - 1}))
    kept = {p: p.read_bytes() for p in out.glob("runs/*/train/*") if p.is_file()}
    again = reproduce(tiny_spec(), out, executor=SerialExecutor(threads=1), progress=False)
    assert again["provenance"]["runs_skipped"] == 1  # 1.2.1 only
    assert {p: p.read_bytes() for p in kept} == kept
    assert json.loads(old.read_text())["diagnosis_revision"] == DIAGNOSIS_REVISION
    assert numbers(again) == numbers(results)


def test_a_damaged_record_means_run_again(tmp_path):
    from svrlens.experiments.runs import finished

    run = tiny_spec().runs()[0]
    path = tmp_path / "runs" / run.directory / "result.json"
    path.parent.mkdir(parents=True)
    for text in ("", "{", "[1, 2]", "3", "null", '"text"', "9" * 5000, "[" * 100000 + "]" * 100000):
        path.write_text(text)
        assert finished(tmp_path, run) is None, text[:20]


def test_a_changed_spec_runs_only_what_changed(serial_sweep):
    out, _ = serial_sweep
    wider = reproduce(tiny_spec(sets=(1, 4, 7)), out, executor=SerialExecutor(threads=1), progress=False)
    assert wider["provenance"]["runs_skipped"] == 2 and list(wider["datasets"]) == ["1.2.1", "1.2.4", "1.2.7"]
    # Models that did not train are named first (three sets could not carry the check either).
    assert wider["checks"]["rising_1.2"]["status"] == "not made"
    assert "did not train" in wider["checks"]["rising_1.2"]["reason"]


def test_another_thread_count_is_another_run_and_provenance_says_so(tmp_path):
    spec = tiny_spec(epochs=1, sets=(7,))
    one = reproduce(spec, tmp_path, executor=SerialExecutor(threads=1), progress=False)
    two = reproduce(spec, tmp_path, executor=SerialExecutor(threads=2), progress=False)
    assert two["provenance"]["runs_skipped"] == 0 and two["provenance"]["threads_per_run"] == 2
    (first,), (second,) = one["datasets"]["1.2.7"]["runs"], two["datasets"]["1.2.7"]["runs"]
    assert first != second  # a new directory: the one-thread run was not reused
    for run, threads in ((first, 1), (second, 2)):
        record = json.loads((tmp_path / run / "result.json").read_text())
        assert record["training"]["threads"] == threads  # measured inside the run
        assert record["training"]["numerics"]["blas_openmp_threads"] == [threads]
        assert json.loads((tmp_path / run / "spec.json").read_text())["threads"] == threads
        assert record["training"]["cpu"] == two["provenance"]["hardware"]["cpu"]


def test_resume_after_a_crash_gives_the_uninterrupted_numbers(tmp_path, serial_sweep, monkeypatch):
    _, clean = serial_sweep
    real_lr_at = loop.lr_at

    def crash_in_epoch_2(epoch, config):
        if epoch == 2:
            raise KeyboardInterrupt("killed")
        return real_lr_at(epoch, config)

    monkeypatch.setattr(loop, "lr_at", crash_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        reproduce(tiny_spec(), tmp_path, executor=SerialExecutor(threads=1), progress=False)
    monkeypatch.setattr(loop, "lr_at", real_lr_at)
    (run,) = tmp_path.glob("runs/1.2.1-*")
    assert not (run / "result.json").exists() and (run / "train" / "last.pt").is_file()
    resumed = reproduce(tiny_spec(), tmp_path, executor=SerialExecutor(threads=1), progress=False)
    epochs = [json.loads(line)["epoch"] for line in (run / "train" / "log.jsonl").read_text().splitlines()]
    assert epochs == [0, 1, 2]  # epochs 0-1 kept from before the crash, epoch 2 run once
    assert numbers(resumed) == numbers(clean)


def _entry(family, n, score, half=0.02, *, case=3, verdict="reconstruction", trained=True, seeds=None):
    return {
        "family": family,
        "n": n,
        "case": case,
        "verdict": verdict,
        "trained": trained,
        "output_tendency": {
            "score": score,
            "interval": [score - half, score + half],
            "seeds": seeds or [score],
        },
    }


def test_check_paper_result_on_constructed_tendencies():
    rising = {f"1.2.{n}": _entry("1.2", n, 0.5 + 0.05 * n) for n in range(1, 8)}
    flat = {f"1.1.{n}": _entry("1.1", n, 0.5) for n in range(1, 8)}
    checks = check_paper_result(rising | flat)
    assert checks["rising_1.2"]["spearman_rho"] == pytest.approx(1.0) and checks["flat_1.1"]["passed"]
    assert checks["main_claim"]["status"] == "passed" and checks["passed"]
    high = flat | {"1.1.4": _entry("1.1", 4, 0.7)}
    checks = check_paper_result(rising | high)
    assert checks["flat_1.1"]["above"] == ["1.1.4"] and not checks["passed"]
    falling = {f"1.2.{n}": _entry("1.2", n, 0.9 - 0.05 * n) for n in range(1, 8)}
    assert check_paper_result(falling | flat)["rising_1.2"]["spearman_rho"] == pytest.approx(-1.0)


def test_rising_check_gives_every_seeds_rho_and_their_interval():
    """Seed 0 rises with n, seed 1 falls: the check reports both, and the printout and the
    report say so instead of only the rho of the seeds' mean."""
    from svrlens.experiments.results import format_results, seeds_rho_text

    sets = {f"1.2.{n}": _entry("1.2", n, 0.7, seeds=[0.5 + 0.05 * n, 0.9 - 0.01 * n]) for n in range(1, 8)}
    check = check_paper_result(sets)["rising_1.2"]
    assert check["per_seed_rho"] == pytest.approx([1.0, -1.0]) and len(check["rho_interval"]) == 2
    assert "per seed 1.000, -1.000" in seeds_rho_text(check)
    printed = format_results({"datasets": {}, "checks": {"rising_1.2": check}})
    assert "per seed 1.000, -1.000" in printed


def test_checks_that_cannot_be_made_do_not_pass():
    """A tiny spec (sets 1 and 7, 4 epochs) once printed REPRODUCED with `"rising_1.2": null`."""
    two = {f"1.2.{n}": _entry("1.2", n, 0.5 + 0.05 * n) for n in (1, 7)}
    checks = check_paper_result(two)
    assert checks["rising_1.2"]["status"] == "not made" and checks["flat_1.1"]["status"] == "not made"
    assert checks["passed"] is False and checks["rising_1.2"]["passed"] is False
    three = {f"1.2.{n}": _entry("1.2", n, 0.5 + 0.05 * n) for n in (1, 4, 7)}  # the quick preset's sets
    reason = check_paper_result(three)["rising_1.2"]["reason"]
    assert reason == "needs ≥ 4 sets of 1.2.n, found 3 (a random order of 3 reaches rho 1 with p = 1/6)"
    four = {f"1.2.{n}": _entry("1.2", n, 0.5 + 0.05 * n) for n in (1, 3, 5, 7)}
    assert check_paper_result(four)["rising_1.2"]["status"] == "passed"
    untrained = {f"1.2.{n}": _entry("1.2", n, 0.5 + 0.05 * n, trained=n != 3) for n in range(1, 8)}
    checks = check_paper_result(untrained)
    assert checks["rising_1.2"]["status"] == "not made" and "1.2.3" in checks["rising_1.2"]["reason"]
    assert not checks["passed"]


def test_main_claim_recognition_in_case_1_only():
    sets = {f"1.2.{n}": _entry("1.2", n, 0.5 + 0.05 * n) for n in range(1, 6)}
    sets |= {f"1.2.{n}": _entry("1.2", n, 0.9, case=1, verdict="recognition") for n in (6, 7)}
    assert check_paper_result(sets)["main_claim"]["status"] == "passed"
    sets["1.2.7"] = _entry("1.2", 7, 0.9, case=1, verdict="mixed")
    claim = check_paper_result(sets)["main_claim"]
    assert claim["status"] == "failed" and claim["broken"] == ["1.2.7"]
    from svrlens.experiments.results import format_results

    printed = format_results({"datasets": {}, "checks": {"main_claim": claim}})
    assert (
        "main_claim: recognition in Case 1, reconstruction in Cases 2 and 3 (sec. 3.1); "
        "broken by 1.2.7 (Case 1, mixed): NOT reproduced" in printed
    )
    from svrlens.experiments.results import broken_text

    assert broken_text({"broken": ["1.2.7"]}) == "1.2.7"  # an older results file: no cases recorded


def test_across_seed_intervals_come_from_the_seeds_values():
    from scipy import stats

    from svrlens.experiments.results import across_seeds

    values = [0.60, 0.72, 0.66]
    entry = across_seeds(values, [[0.0, 1.0]] * 3)
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / np.sqrt(3)
    assert entry["interval"] == pytest.approx([np.mean(values) - half, np.mean(values) + half])
    assert "seeds" in entry["interval_kind"] and entry["seeds"] == values
    assert across_seeds([0.5], [[0.4, 0.6]])["interval"] == [0.4, 0.6]


def test_label_study_and_its_report(tmp_path):
    from dataclasses import replace

    from svrlens.experiments import LabelStudy
    from svrlens.report import build_report

    base = tiny_spec()
    spec = replace(
        base,
        studies=(),
        label_study=LabelStudy(
            "cube-sphere", replace(base.studies[0].train, epochs=2), modes=("none", "full")
        ),
    ).validate()
    results = reproduce(spec, tmp_path, executor=SerialExecutor(threads=1), progress=False)
    assert results["datasets"] == {} and set(results["label_study"]) == {"none", "full"}
    for entry in results["label_study"].values():
        assert entry["family"] is None and -1 <= entry["codeword_silhouette_by_label"] <= 1
    assert results["checks"]["passed"] is False and results["checks"]["rising_1.2"]["status"] == "not made"
    runs = sorted(p.name.split("-s0-")[0] for p in (tmp_path / "runs").iterdir())
    assert runs == ["labels-full", "labels-none"]
    html = build_report(tmp_path).read_text()
    assert "fig. 7" in html and "labels: full" in html and "labels: none" in html


def test_the_sweeps_matrix_cache_gives_the_uncached_numbers(tmp_path):
    """Diagnosis matrices of ≥ 1024 pairs are cached by content and shared between runs; the
    entries equal the uncached ones exactly, and small matrices (the floors) are not cached."""
    from svrlens.evaluation.references import default_chamfer
    from svrlens.experiments.runs import shared_chamfer

    rng = np.random.default_rng(0)
    a, b = rng.random((40, 36, 3), np.float32), rng.random((30, 50, 3), np.float32)
    shared, plain = shared_chamfer(tmp_path), default_chamfer()
    for args in ((a, b), (a,)):
        np.testing.assert_array_equal(shared(*args), plain(*args))
    entries = sorted(p.name for p in (tmp_path / "cache" / "chamfer" / "cpu").iterdir())
    assert len(entries) == 2 and sum(name.endswith("-sym") for name in entries) == 1
    np.testing.assert_array_equal(shared(a[:10], b[:10]), plain(a[:10], b[:10]))  # 100 pairs
    np.testing.assert_array_equal(shared(a, b), plain(a, b))  # read back
    assert sorted(p.name for p in (tmp_path / "cache" / "chamfer" / "cpu").iterdir()) == entries
    np.testing.assert_array_equal(shared(a + 1, b), plain(a + 1, b))  # other data, another entry
    assert len(list((tmp_path / "cache" / "chamfer" / "cpu").iterdir())) == 3


def test_two_runs_on_the_same_data_share_its_matrices(tmp_path, monkeypatch):
    """A sweep's diagnoses cache the matrices of data alone (the clouds are centred on the data,
    so they are the same arrays in every run on those data) and never the predictions': a second
    run on the same data adds no entry, and both give the numbers of an uncached diagnosis."""
    from svrlens.data import SynthConfig, generate
    from svrlens.evaluation import EvaluationConfig, diagnose
    from svrlens.experiments import runs

    monkeypatch.setattr(runs, "CACHED_PAIRS", 100)
    synth = SynthConfig(n_shapes=60, n_points=36, dense_points=64, image_size=32, seed=3)
    data = generate(synth, progress=False)
    train, test = data.subset("train"), data.subset("test")
    config = EvaluationConfig(thresholds=(0.2,), n_bootstrap=50, null_references=3)
    rng, counts = np.random.default_rng(1), []
    for _ in range(2):
        predictions = np.asarray(test.points) + rng.normal(0, 0.02, test.points.shape).astype(np.float32)
        shared = runs.shared_chamfer(tmp_path)
        cached = diagnose(train, test, predictions, config=config, data_chamfer_matrix=shared)
        counts.append(len(list((tmp_path / "cache" / "chamfer" / "cpu").iterdir())))
        plain = diagnose(train, test, predictions, config=config)
        assert cached["statistic"] == plain["statistic"] and cached["model"] == plain["model"]
    assert counts == [4, 4]  # training shapes, truths × test, training × test, truths × training


def test_runs_are_handed_out_seed_by_seed(tmp_path):
    """A set's next seed comes after every set's previous seed (its data matrices are cached by
    then); within a seed, the spec's order."""

    class Handed(Exception):
        pass

    class Recording:
        def run_settings(self):
            return {"threads": 1, "device": "cpu"}

        def describe(self):
            return {"executor": "recording"}

        def run(self, runs, out, *, progress):
            self.order = [(r.name, r.train.seed) for r in runs]
            raise Handed

    executor = Recording()
    with pytest.raises(Handed):
        reproduce(tiny_spec(seeds=(2, 0)), tmp_path, executor=executor, progress=False)
    assert executor.order == [("1.2.1", 2), ("1.2.7", 2), ("1.2.1", 0), ("1.2.7", 0)]


def _bfloat16_spec():
    spec = tiny_spec()
    (study,) = spec.studies
    model = replace(study.train.model, precision="bfloat16")
    return replace(spec, studies=(replace(study, train=replace(study.train, model=model, device="cpu")),))


def test_bfloat16_sweeps_are_refused_where_the_cpu_only_emulates_it(tmp_path, monkeypatch, capsys):
    """Emulated bfloat16 trained the laptop model 20x slower than float32 (bench_train --levers on
    an AVX2-only EPYC): a sweep refuses it before writing anything, in one line, exit 2."""
    import torch

    import svrlens._machine
    from svrlens.cli import main
    from svrlens.errors import InputError

    monkeypatch.setattr(svrlens._machine, "bfloat16_arithmetic", lambda: False)
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"precision bfloat16: 2 runs \(1\.2\.1, …\).*emulates it"):
        reproduce(_bfloat16_spec(), out, executor=SerialExecutor(), progress=False)
    assert not out.exists()
    if not torch.cuda.is_available():  # the preset's "auto" device trains on a GPU where there is one
        assert main(["reproduce", "--preset", "seeds", "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "21 runs (1.1.1" in err and "train in float32" in err
        assert not out.exists()


def test_what_the_bfloat16_refusal_lets_through(tmp_path, monkeypatch):
    """float32 runs, runs whose training is complete (re-diagnosed only), a Ray cluster at an
    address, and a CPU whose flags cannot be read; a local Ray instance is this machine."""
    import svrlens._machine
    from svrlens.errors import InputError

    monkeypatch.setattr(svrlens._machine, "bfloat16_arithmetic", lambda: False)
    runs = _bfloat16_spec().runs()
    sweep._check_bfloat16(tiny_spec().runs(device="cpu"), tmp_path, SerialExecutor())

    class Ray:
        name, address = "ray", "ray://cluster:10001"

    sweep._check_bfloat16(runs, tmp_path, Ray())
    Ray.address = None
    with pytest.raises(InputError, match="2 runs"):
        sweep._check_bfloat16(runs, tmp_path, Ray())
    log = tmp_path / "runs" / runs[0].directory / "train" / "log.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text("{}\n" * runs[0].train.epochs)  # its training is complete
    with pytest.raises(InputError, match=r"1 run \(1\.2\.7\) would train"):
        sweep._check_bfloat16(runs, tmp_path, SerialExecutor())
    monkeypatch.setattr(svrlens._machine, "bfloat16_arithmetic", lambda: None)
    sweep._check_bfloat16(runs, tmp_path / "fresh", SerialExecutor())
    monkeypatch.setattr(svrlens._machine, "bfloat16_arithmetic", lambda: True)
    sweep._check_bfloat16(runs, tmp_path / "fresh", SerialExecutor())


def test_an_out_that_is_a_file_is_refused_in_one_line(tmp_path):
    from svrlens.errors import InputError

    (tmp_path / "afile").write_text("mine")
    with pytest.raises(InputError, match="--out: expected a directory, found a file"):
        reproduce(tiny_spec(), tmp_path / "afile", executor=SerialExecutor(), progress=False)
    assert (tmp_path / "afile").read_text() == "mine"


def test_a_sweeps_run_figures_are_png_only_and_the_reports_keep_their_svg(serial_sweep):
    """Per-run diagnosis figures skip their SVG copy (the report inlines PNGs); the PNGs are all there."""
    out, _ = serial_sweep
    for run_dir in out.glob("runs/*/diagnosis/figures"):
        pngs = sorted(p.stem for p in run_dir.glob("*.png"))
        assert {"fig4-tendencies", "fig5-matrices", "fig6-scores", "verdict"} <= set(pngs)
        assert not list(run_dir.glob("*.svg"))


def test_the_training_bar_counts_samples_seen_across_runs(serial_sweep):
    """Epochs × training-set size, read from the finished runs' logs and their sets' manifests."""
    from svrlens.experiments.executors import _EpochBar
    from svrlens.experiments.runs import prepare_data

    out, _ = serial_sweep
    runs = tiny_spec().runs(threads=1)
    sizes = [
        len(json.loads((prepare_data(out, r) / "manifest.json").read_text())["splits"]["train"]) for r in runs
    ]
    with _EpochBar(out, runs, progress=True, desc="training") as bar:
        assert bar.total == sum(r.train.epochs * n for r, n in zip(runs, sizes)) and bar.n == 0
        bar.refresh_from_logs()
        assert bar.n == bar.total  # every run finished


@pytest.mark.parametrize(
    "kind, device, backend",
    [("cuda", "a CUDA", lambda torch: torch.cuda), ("mps", "an MPS", lambda torch: torch.backends.mps)],
)
def test_an_accelerator_spec_without_it_is_refused_before_anything_trains(
    tmp_path, monkeypatch, kind, device, backend
):
    import torch

    from svrlens.errors import InputError

    monkeypatch.setattr(backend(torch), "is_available", lambda: False)
    spec = tiny_spec()
    (study,) = spec.studies
    spec = replace(spec, studies=(replace(study, train=replace(study.train, device=kind)),))
    refused = rf"device {kind}: 2 runs \(1\.2\.1, …\) planned for {device} device"
    with pytest.raises(InputError, match=refused):
        reproduce(spec, tmp_path / "out", executor=SerialExecutor(), progress=False)
    assert not (tmp_path / "out").exists()
    # a local Ray instance plans every run for "cpu" (its run_settings); the config's device still counts
    runs = spec.runs(device="cpu")
    assert {r.device for r in runs} == {"cpu"}
    with pytest.raises(InputError, match=f"device {kind}: 2 runs"):
        sweep._check_accelerators(runs, SerialExecutor())
