"""The instruments in results.json: aggregation over seeds and the successor's trend check."""

import numpy as np
import pytest

from svrlens.experiments.instruments import aggregate_instruments, check_dispersion_trend
from svrlens.experiments.runs import copying_record, dispersion_record


def _record(scale: float, copying: float | None, undefined: str | None = None) -> dict:
    """A run's compact record: DS per role at K = 2 and 5, the ratio, and the copying test."""

    def sweep(factor):
        return [{"k": k, "score": factor * scale / k, "interval": [0.0, 1.0]} for k in (2, 5)]

    diagnosis_ds = {
        "ks": [2, 5],
        "headline_k": 2,
        "ratio": [{"k": k, "value": 0.5, "interval": [0.4, 0.6], "defined": True} for k in (2, 5)],
        **{
            role: {"distance": role, "sweep": sweep(f)}
            for role, f in zip(("images", "shapes", "predictions", "test_truths"), (1.0, 2.0, 3.0, 4.0))
        },
    }
    diagnosis_copying = {
        "statistic": copying,
        "p_value": 0.01,
        "combined_z": copying,
        "n_cells_used": 2,
        "global": {"z_u": -1.0 if copying is None else copying, "p_value": 0.02, "u": 1.0},
        "undefined": undefined,
    }
    return {"dispersion": dispersion_record(diagnosis_ds), "copying": copying_record(diagnosis_copying)}


def test_aggregate_over_seeds():
    out = aggregate_instruments([_record(1.0, -2.0), _record(3.0, -4.0)])
    ds = out["dispersion"]
    assert ds["ks"] == [2, 5] and ds["headline_k"] == 2 and ds["image_distance"] == "images"
    assert ds["predictions"]["2"]["score"] == pytest.approx(3.0 * 2.0 / 2)  # mean of 1.5 and 4.5
    assert ds["ratio"]["5"]["seeds"] == [0.5, 0.5]
    assert out["copying"]["score"] == pytest.approx(-3.0) and out["copying"]["global_z_u"] == [-2.0, -4.0]
    assert aggregate_instruments([{"dispersion": None, "copying": None}]) == {
        "dispersion": None,
        "copying": None,
    }


def test_a_seed_where_copying_is_undecidable_keeps_the_decided_seeds():
    reason = "every training cluster that holds predictions has its test truths within the noise"
    out = aggregate_instruments([_record(1.0, -2.0), _record(3.0, None, reason)])["copying"]
    assert out["score"] is None and out["interval"] is None and out["seeds"] == [-2.0, None]
    assert out["undefined"] == [None, reason] and out["global_z_u"] == [-2.0, -1.0]


def _family(name, role_values, output_values):
    out = {}
    for n, (x, y) in enumerate(zip(role_values, output_values), 1):
        ds = {
            "headline_k": 2,
            "images": {"2": {"score": x}},
            "shapes": {"2": {"score": x}},
            "predictions": {"2": {"score": y}},
        }
        out[f"{name}.{n}"] = {"family": name, "n": n, "dispersion": ds, "trained": True}
    return out


def test_the_successors_trend_check():
    rising = np.linspace(0.1, 1.0, 8)
    datasets = _family("dispersion-image", rising, rising[::-1]) | _family("dispersion-shape", rising, rising)
    checks = check_dispersion_trend(datasets, 0.7)
    assert checks["trend_dispersion-image"]["status"] == "passed"
    assert checks["trend_dispersion-image"]["spearman_rho"] == pytest.approx(-1.0)
    assert checks["trend_dispersion-shape"]["status"] == "passed"
    wrong = check_dispersion_trend(_family("dispersion-shape", rising, rising[::-1]), 0.7)
    assert wrong["trend_dispersion-shape"]["status"] == "failed" and "trend_dispersion-image" not in wrong
    few = check_dispersion_trend(_family("dispersion-image", rising[:2], rising[:2]), 0.7)
    assert few["trend_dispersion-image"]["status"] == "not made"
