"""Two sweeps' results side by side (``svrlens compare``), on constructed results files."""

import json

import numpy as np
import pytest
from scipy import stats

from svrlens.cli import main
from svrlens.experiments.compare import compare_results, format_comparison, load_results, welch_interval


def _entry(family, n, tendencies, gains, verdicts):
    return {
        "family": family,
        "n": n,
        "seeds": list(range(len(tendencies))),
        "verdict": verdicts[0] if len(set(verdicts)) == 1 else "mixed",
        "verdicts": verdicts,
        "case": 1,
        "cases": [1] * len(verdicts),
        "output_tendency": {"score": float(np.mean(tendencies)), "seeds": tendencies},
        "statistic": {"score": float(np.mean(gains)), "seeds": gains},
    }


def _results(shift=0.0, flip=False):
    last_verdicts = ["recognition", "reconstruction" if flip else "recognition"]
    rising = {"status": "passed", "spearman_rho": 1.0, "per_seed_rho": [1.0, 0.9], "rho_interval": [0.3, 1.0]}
    return {
        "datasets": {
            "1.2.1": _entry("1.2", 1, [0.60 + shift, 0.62 + shift], [0.9, 0.8], ["reconstruction"] * 2),
            "1.2.7": _entry("1.2", 7, [0.80, 0.84], [0.3, 0.4], last_verdicts),
        },
        "checks": {"rising_1.2": rising, "passed": True},
    }


def test_welch_interval_is_scipys():
    a, b = [0.61, 0.66, 0.58], [0.70, 0.74, 0.69, 0.72]
    want = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    np.testing.assert_allclose(welch_interval(a, b), [want.low, want.high], rtol=1e-12)
    assert welch_interval([0.5], b) is None and welch_interval([0.5, 0.5], [0.7, 0.7]) is None


def test_differences_beyond_and_within_the_seeds_spread_and_verdict_agreement():
    comparison = compare_results(_results(), _results(shift=0.2, flip=True))
    sets = comparison["sets"]
    shifted, same = sets["1.2.1"]["output_tendency"], sets["1.2.7"]["output_tendency"]
    assert shifted["difference"] == pytest.approx(0.2) and shifted["within_seed_spread"] is False
    assert same["difference"] == 0 and same["within_seed_spread"] is True
    assert comparison["verdict_agreement"] == {"same": 3, "pairs": 4}
    printed = format_comparison(comparison, ("laptop", "seeds"))
    assert "+0.200 [" in printed and "beyond it" in printed and "within seed spread" in printed
    assert "the same verdict on 3 of 4 (set, seed) pairs" in printed
    assert "rising_1.2 (seeds): REPRODUCED, rho 1.000; per seed 1.000, 0.900" in printed


def test_undefined_seed_values_are_left_out_of_the_difference():
    second = _results()
    second["datasets"]["1.2.7"]["statistic"]["seeds"] = [None, 0.5]
    row = compare_results(_results(), second)["sets"]["1.2.7"]["statistic"]
    assert row["difference"] == pytest.approx(0.5 - 0.35) and row["interval"] is None
    printed = format_comparison(compare_results(_results(), second), ("a", "b"))
    assert "+0.150 (no interval: one seed on a side)" in printed


def test_compare_cli_writes_json_and_figure_and_refuses_bad_input(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text(json.dumps(_results()))
    (tmp_path / "b.json").write_text(json.dumps(_results(shift=0.1)))
    out = tmp_path / "cmp"
    code = main(["compare", str(tmp_path / "a"), str(tmp_path / "b.json"), "--labels", "x,y",
                 "--json", f"{out}.json", "--figure", f"{out}.png"])  # fmt: skip
    assert code == 0 and "output tendency per seed: x | y" in capsys.readouterr().out
    assert json.loads((tmp_path / "cmp.json").read_text())["labels"] == ["x", "y"]
    assert (tmp_path / "cmp.png").stat().st_size > 0 and (tmp_path / "cmp.svg").exists()
    (tmp_path / "list.json").write_text("[1, 2]")
    for args, message in (
        ([str(tmp_path / "missing")], "no such results file"),
        ([str(tmp_path / "list.json")], "not a sweep's results.json"),
        ([str(tmp_path / "b.json"), "--labels", "only-one"], "--labels: expected two names"),
        ([str(tmp_path / "b.json"), "--labels", "x, x"], "--labels: expected two different names"),
        ([str(tmp_path / "a")], "the same results file twice; name the two with --labels"),
        ([str(tmp_path / "a" / "results.json")], "the same results file twice"),
    ):
        assert main(["compare", str(tmp_path / "a"), *args]) == 2
        error = capsys.readouterr().err
        assert message in error and len(error.strip().splitlines()) == 1
    assert load_results(tmp_path / "a")["checks"]["passed"] is True


def test_verdicts_are_paired_by_seed_value_and_incomplete_files_are_refused(tmp_path, capsys):
    one_seed = _results()
    for entry in one_seed["datasets"].values():
        for key in ("seeds", "verdicts"):
            entry[key] = entry[key][1:]  # seed 1 only
        entry["output_tendency"]["seeds"] = entry["output_tendency"]["seeds"][1:]
    comparison = compare_results(one_seed, _results(flip=True))
    assert comparison["verdict_agreement"] == {"same": 1, "pairs": 2}  # seed 1 of each set
    broken = _results()
    del broken["datasets"]["1.2.7"]["n"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    (tmp_path / "fine.json").write_text(json.dumps(_results()))
    assert main(["compare", str(tmp_path / "fine.json"), str(tmp_path / "broken.json")]) == 2
    assert "set '1.2.7': expected" in capsys.readouterr().err
    fine = str(tmp_path / "fine.json")
    assert main(["compare", fine, fine, "--labels", "a, b"]) == 0
    assert "output tendency per seed: a | b |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda e: e["output_tendency"]["seeds"].__setitem__(0, float("nan")), "output_tendency.seeds"),
        (lambda e: e["output_tendency"].__setitem__("score", True), 'finite "score"'),
        (lambda e: e["statistic"]["seeds"].__setitem__(0, "x"), "statistic.seeds"),
        (lambda e: e.__setitem__("statistic", "x"), '"statistic" with a finite'),
        (lambda e: e.__setitem__("seeds", [[0], [1]]), "list of integers"),
        (lambda e: e.__setitem__("verdicts", "recognition"), "one per seed"),
        (lambda e: e.__setitem__("n", True), '"n" (an integer)'),
        (lambda e: e.__setitem__("seeds", [0]), "one per seed (1)"),
    ],
)
def test_bad_set_entries_are_refused_naming_the_set(tmp_path, capsys, change, message):
    bad = _results()
    change(bad["datasets"]["1.2.7"])
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    (tmp_path / "fine.json").write_text(json.dumps(_results()))
    assert main(["compare", str(tmp_path / "fine.json"), str(tmp_path / "bad.json")]) == 2
    error = capsys.readouterr().err
    assert "set '1.2.7'" in error and message in error and len(error.strip().splitlines()) == 1


def test_outputs_never_overwrite_inputs_and_bad_outputs_write_nothing(tmp_path, capsys):
    fine = tmp_path / "fine.json"
    fine.write_text(json.dumps(_results()))
    (tmp_path / "other.json").write_text(json.dumps({"datasets": {"9.9.9": _results()["datasets"]["1.2.1"]}}))
    for extra, message in (
        (["--json", str(fine)], "--json: expected a new output file"),
        (["--figure", str(tmp_path / "f.txt"), "--json", str(tmp_path / "j.json")], "--figure: expected a"),
        (["--json", ""], "--json: expected a new output file"),
    ):
        assert main(["compare", str(fine), str(fine), "--labels", "a,b", *extra]) == 2, extra
        assert message in capsys.readouterr().err
    assert main(["compare", str(fine), str(tmp_path / "other.json")]) == 2
    assert "no data set in common" in capsys.readouterr().err
    assert json.loads(fine.read_text()) == _results() and not (tmp_path / "j.json").exists()
    other = tmp_path / "other.svg"  # a .png figure's .svg sibling is an output too
    other.write_text(json.dumps(_results()))
    assert main(["compare", str(fine), str(other), "--figure", str(tmp_path / "other.png")]) == 2
    assert "--figure (its .svg): expected a new output file" in capsys.readouterr().err
    assert main(["compare", str(fine), str(other), "--json", str(tmp_path / "newdir") + "/"]) == 2
    assert "(empty, or a directory)" in capsys.readouterr().err and not (tmp_path / "newdir").exists()


def test_a_json_that_cannot_be_written_takes_the_figure_with_it(tmp_path, capsys):
    """The figure is written first; when the JSON then fails, nothing of the call remains."""
    fine, shifted = tmp_path / "fine.json", tmp_path / "shifted.json"
    fine.write_text(json.dumps(_results()))
    shifted.write_text(json.dumps(_results(shift=0.1)))
    (tmp_path / "blocker").write_text("a file where the JSON's directory would be")
    figure = tmp_path / "fig.png"
    args = ["compare", str(fine), str(shifted), "--figure", str(figure)]
    assert main([*args, "--json", str(tmp_path / "blocker" / "c.json")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not figure.exists() and not figure.with_suffix(".svg").exists()
