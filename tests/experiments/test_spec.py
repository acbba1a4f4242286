import json
from dataclasses import replace

import pytest

from svrlens.errors import InputError
from svrlens.experiments import PRESETS, ExperimentSpec, load_spec, preset_spec

from .conftest import tiny_spec


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_validate_and_round_trip(name):
    spec = preset_spec(name)
    again = ExperimentSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert [r.key for r in again.runs()] == [r.key for r in spec.runs()]


def test_preset_run_counts():
    assert [r.name for r in preset_spec("laptop").runs()] == [f"1.1.{n}" for n in range(1, 8)] + [
        f"1.2.{n}" for n in range(1, 8)
    ]
    assert len(preset_spec("paper").runs()) == 14
    full = preset_spec("full").runs()
    assert len(full) == (4 * 7 + 3) * 3  # four families of seven sets and three label modes, three seeds each
    assert {r.train.labels for r in full if r.family is None} == {"none", "weak", "full"}


def test_quick_preset_is_five_short_runs_whose_results_say_so():
    from svrlens.experiments.presets import CAVEATS
    from svrlens.experiments.results import format_results

    quick, laptop = preset_spec("quick"), preset_spec("laptop")
    assert [r.name for r in quick.runs()] == ["1.1.1", "1.1.7", "1.2.1", "1.2.4", "1.2.7"]
    epochs = {r.family: r.train.epochs for r in quick.runs()}
    assert epochs == {"1.1": 50, "1.2": 200}  # 200 optimizer steps each, the laptop model otherwise
    assert all(r.train.model == laptop.runs()[0].train.model for r in quick.runs())
    printed = format_results({"datasets": {}, "caveat": CAVEATS["quick"]})
    assert printed.splitlines()[-1].startswith("NOTE") and "not the result" in printed
    assert "laptop" not in CAVEATS and "NOTE" not in format_results({"datasets": {}, "caveat": None})


def test_run_key_is_content_addressed():
    a, b = tiny_spec().runs(), tiny_spec().runs()
    assert [r.key for r in a] == [r.key for r in b]
    assert len({r.key for r in a}) == len(a)
    other = tiny_spec(epochs=4).runs()
    assert {r.key for r in other}.isdisjoint(
        r.key for r in a
    )  # anything that changes the numbers changes the directory
    seeds = tiny_spec(seeds=(0, 1)).runs()
    assert (
        len(seeds) == 4
        and seeds[0].directory.startswith("1.2.1-s0-")
        and seeds[1].directory.startswith("1.2.1-s1-")
    )


def test_run_identity_covers_threads_device_version_data_and_training(monkeypatch):
    from svrlens.data import SynthConfig
    from svrlens.experiments import spec as spec_module

    run = tiny_spec().runs()[0]
    assert run.threads == 1 and run.device in ("cpu", "cuda")
    variants = {
        "threads": tiny_spec().runs(threads=2)[0],
        "device": replace(run, device="cuda" if run.device == "cpu" else "cpu"),
        "data": replace(run, base=SynthConfig(family="cube-sphere", n_shapes=61, n_points=36, seed=3)),
        "training": replace(run, train=replace(run.train, weight_decay=0.0)),
        "model": replace(run, train=replace(run.train, model=replace(run.train.model, decoder_width=9))),
        "seed": replace(run, train=replace(run.train, seed=5)),
    }
    keys = {name: other.key for name, other in variants.items()}
    assert run.key not in keys.values() and len(set(keys.values())) == len(keys)
    key = run.key
    monkeypatch.setattr(spec_module, "__version__", "9.9.9")
    assert tiny_spec().runs()[0].key != key  # another svrlens version: another run
    assert run.to_dict()["svrlens_version"] == "9.9.9"
    with pytest.raises(ValueError, match="threads: expected ≥ 1, found 0"):
        tiny_spec().runs(threads=0)


def test_unknown_preset():
    with pytest.raises(ValueError, match="preset: expected one of .*found 'huge'"):
        preset_spec("huge")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(epochs=3), "spec: unknown key 'epochs'"),
        (lambda d: d["studies"][0].update(family="9.9"), "study family: expected one of"),
        (lambda d: d["studies"][0].update(sets=[0, 8]), "expected sets within 1…7"),
        (lambda d: d["studies"][0]["train"].update(epoch=3), r"studies\[0\].train: unknown key 'epoch'"),
        (
            lambda d: d["studies"][0]["train"]["model"].update(width=3),
            r"studies\[0\].train.model: unknown key 'width'",
        ),
        (lambda d: d["studies"][0]["train"].update(labels="some"), "labels: expected one of"),
        (lambda d: d.update(seeds=[0, 0]), "seeds: expected distinct"),
        (lambda d: d.update(seeds="0"), "seeds: expected a list"),
        (lambda d: d["bases"].pop("cube-sphere"), "needs base 'cube-sphere'"),
        (
            lambda d: d["evaluation"].update(thresholds=[-1]),
            r"evaluation.thresholds\[0\]: expected a value > 0, found -1",
        ),
        (
            lambda d: d["studies"][0]["train"].update(epochs=2.5),
            r"studies\[0\].train.epochs: expected an integer",
        ),
        (
            lambda d: d["bases"]["cube-sphere"].update(n_shapes=10**10),
            "bases.cube-sphere.n_shapes: expected a value ≤ 10,000,000",
        ),
        (
            lambda d: d["bases"]["cube-sphere"].update(n_shapes=20),
            "bases.cube-sphere.n_shapes: study 1.2 draws 20 training shapes, but 20 shapes leave 14",
        ),
        (
            lambda d: d["bases"]["cube-sphere"].update(n_points=10**9),
            "bases.cube-sphere.n_points: expected a value ≤ 1,000,000",
        ),
        (
            lambda d: d["studies"][0]["train"]["model"].update(decoder_width=0),
            r"studies\[0\].train.model.decoder_width: expected a value ≥ 1, found 0",
        ),
        (
            lambda d: d["evaluation"].update(thresholds=[float("nan")]),
            r"evaluation.thresholds\[0\]: expected a finite number",
        ),
        (lambda d: d["evaluation"].update(n_bootstrap="many"), "evaluation.n_bootstrap: expected an integer"),
        (lambda d: d.update(seeds=[-1]), "seeds: expected a list of integers"),
        (lambda d: d["studies"][0].update(family=3), r"studies\[0\].family: expected a string"),
        (lambda d: d.update(version=99), "spec version: expected 1"),
    ],
)
def test_bad_specs_are_rejected_with_the_reason(tmp_path, edit, message):
    data = tiny_spec().to_dict()
    edit(data)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=message) as error:
        load_spec(path)
    assert error.value.path == str(path)


def test_spec_file_errors(tmp_path):
    with pytest.raises(InputError, match="no such spec file"):
        load_spec(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_spec(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="spec: expected an object"):
        load_spec(tmp_path / "list.json")


def test_seeds_preset_is_three_seeds_of_a_rescaled_laptop_model_with_bfloat16_1_1():
    seeds, laptop = preset_spec("seeds"), preset_spec("laptop")
    runs = seeds.runs()
    assert len(runs) == 42 and {r.train.seed for r in runs} == {0, 1, 2}
    assert {(r.family, r.train.epochs) for r in runs} == {("1.1", 100), ("1.2", 200)}
    model = laptop.runs()[0].train.model
    assert all(r.train.model == model for r in runs if r.family == "1.2")  # float32: bfloat16 weakened fig. 4
    assert all(r.train.model == replace(model, precision="bfloat16") for r in runs if r.family == "1.1")
    assert seeds.bases == laptop.bases  # the same data: comparable set by set with the laptop preset
    from svrlens.experiments.presets import CAVEATS

    assert "every seed" in CAVEATS["seeds"] and "reference" in CAVEATS["seeds"]


def test_float32_runs_keep_their_keys_and_bfloat16_changes_them():
    """``precision`` enters a run's identity only where it is not the float32 default, so runs
    made before the option existed are still found finished."""
    run = preset_spec("laptop").runs()[0]
    assert "precision" not in run.to_dict()["train"]["model"]
    bf16 = replace(run, train=replace(run.train, model=replace(run.train.model, precision="bfloat16")))
    assert bf16.to_dict()["train"]["model"]["precision"] == "bfloat16" and bf16.key != run.key
    assert run.train.to_dict()["model"]["precision"] == "float32"  # config.json still says it
