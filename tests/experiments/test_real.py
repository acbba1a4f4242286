"""The ``real`` study (sec. 4 on real shapes): tiny meshes built, trained with no / weak / full
labels, compared with Oracle-NN, and reported with figs. 6–8."""

import json
from dataclasses import replace

import pytest

from svrlens.data.build import BuildConfig, build_dataset
from svrlens.experiments import ExperimentSpec, RealData, RealStudy, SerialExecutor, reproduce
from svrlens.experiments.real import _call, oracle_comparison
from svrlens.experiments.runs import prepare_data
from svrlens.report import build_report
from tests.data.meshes import small_collection

from .conftest import tiny_spec

TINY_BUILD = BuildConfig(image_size=32, n_points=36, dense_points=128, split=(0.5, 0.1, 0.4))


def real_spec(data: RealData, modes=("none", "weak", "full"), epochs=6) -> ExperimentSpec:
    base = tiny_spec()
    train = replace(base.studies[0].train, epochs=epochs, val_every=3)
    return ExperimentSpec(
        name="real-tiny",
        bases={},
        evaluation=base.evaluation,
        real_study=RealStudy(data, train, tuple(modes)),
    ).validate()


def test_the_real_study_runs_end_to_end_on_built_meshes(tmp_path):
    small_collection(tmp_path / "meshes", per_category=8)
    spec = real_spec(RealData(meshes=str(tmp_path / "meshes"), build=TINY_BUILD))
    assert ExperimentSpec.from_dict(json.loads(json.dumps(spec.to_dict()))).to_dict() == spec.to_dict()
    results = reproduce(spec, tmp_path / "out", executor=SerialExecutor(threads=1), progress=False)
    assert set(results["real_study"]) == {"none", "weak", "full"} and results["label_study"] is None
    summary = results["real_checks"]
    for mode, entry in results["real_study"].items():
        assert -1 <= entry["codeword_silhouette_by_label"] <= 1  # two categories, by label
        oracle = summary["oracle"][mode]
        low, high = oracle["interval"]
        assert low <= oracle["relative"] <= high and oracle["within_1_percent"] in ("yes", "no", "undecided")
        assert oracle["model_chamfer"] == pytest.approx(entry["model"]["chamfer"])
    assert set(summary["labels_cost"]) >= {"none", "full", "full_minus_none"}
    runs = sorted(p.name.split("-s0-")[0] for p in (tmp_path / "out" / "runs").iterdir())
    assert runs == ["real-full", "real-none", "real-weak"]
    built = list((tmp_path / "out" / "data").glob("real-*/base/manifest.json"))
    assert len(built) == 1 and json.loads(built[0].read_text())["generator"] == "svrlens.data.build"
    html = build_report(tmp_path / "out").read_text()
    assert "within 1 %" in html
    for mode in ("none", "weak", "full"):  # every model of the study: figs. 6, 7 and 8
        for fig in (6, 7, 8):
            assert f"fig. {fig} — real: {mode}" in html, (fig, mode)


def test_a_real_study_on_a_built_dataset_is_keyed_by_its_content(tmp_path):
    small_collection(tmp_path / "meshes", per_category=4)
    build_dataset(tmp_path / "meshes", tmp_path / "data", TINY_BUILD, jobs=0, progress=False)
    spec = real_spec(RealData(dataset=str(tmp_path / "data")), modes=("full",))
    run = spec.runs()[0]
    assert run.name == "real-full" and run.train.labels == "full"
    key = run.key  # read from the dataset's manifest now
    assert prepare_data(tmp_path / "out", run) == (tmp_path / "data").resolve()
    rebuilt = replace(TINY_BUILD, seed=1)
    build_dataset(tmp_path / "meshes", tmp_path / "data", rebuilt, jobs=0, force=True, progress=False)
    assert spec.runs()[0].key != key  # another dataset under the same path: another run


def test_real_study_specs_are_checked():
    with pytest.raises(ValueError, match="exactly one of 'dataset' and 'meshes'"):
        RealData().validate()
    spec = {"name": "x", "bases": {}, "real_study": {"dataset": "d", "modes": ["some"]}}
    with pytest.raises(ValueError, match="real_study.modes"):
        ExperimentSpec.from_dict(spec)
    spec["real_study"] = {"dataset": "d", "epochs": 3}
    with pytest.raises(ValueError, match="real_study: unknown key 'epochs'"):
        ExperimentSpec.from_dict(spec)
    spec["real_study"] = {"meshes": "m", "build": {"image_size": 2}}
    with pytest.raises(ValueError, match="real_study.build.image_size: expected a value ≥ 8"):
        ExperimentSpec.from_dict(spec)


def test_within_one_percent_is_a_statement_about_the_interval():
    assert _call([-0.004, 0.008]) == "yes"
    assert _call([0.02, 0.05]) == "no" and _call([-0.3, -0.02]) == "no"
    assert _call([-0.005, 0.03]) == "undecided" and _call(None) == "undecided"
    record = {
        "comparisons": {
            "oracle_nn": {
                "chamfer": {
                    "model_mean": 0.202,
                    "baseline_mean": 0.2,
                    "relative_difference": 0.01,
                    "relative_interval": [0.004, 0.016],
                }
            }
        }
    }
    summary = oracle_comparison([record])
    assert summary["relative"] == 0.01 and summary["within_1_percent"] == "undecided"
    two = oracle_comparison([record, record])  # two seeds: a t interval over their values
    assert "seeds" in two["interval_kind"] and two["interval"] == [0.01, 0.01]
