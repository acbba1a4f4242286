"""The field's instruments side by side in ``results.json`` (issue 14): per data set, over its seeds,
the dispersion score (DS per role and K, the ratio DS(predictions) / DS(test truths) per K) and
the copying test (C_T and its p-value), beside the output tendency and the verdict statistic that
:mod:`.results` aggregates; and the successor's trend checked on the ``dispersion-*`` families.
"""

from __future__ import annotations

import numpy as np

ROLES = ("images", "shapes", "predictions", "test_truths")
# family → (the training role whose DS the design grows, expected sign of ρ, the check's key)
TREND_FAMILIES = {
    "dispersion-image": ("images", -1, "trend_dispersion-image"),
    "dispersion-shape": ("shapes", +1, "trend_dispersion-shape"),
}


def _across(values: list, intervals: list):
    """:func:`.results.across_seeds` of per-seed values, or None when a seed has none."""
    from .results import across_seeds

    if not values or any(v is None for v in values):
        return None
    return across_seeds(values, intervals if all(i is not None for i in intervals) else None)


def aggregate_instruments(records: list[dict]) -> dict:
    """``dispersion`` and ``copying`` of one data set from its runs (None for runs made before
    these instruments existed)."""
    dispersions = [r.get("dispersion") for r in records]
    copyings = [r.get("copying") for r in records]
    out = {"dispersion": None, "copying": None}
    if all(d is not None for d in dispersions):
        first = dispersions[0]
        entry = {
            "ks": first["ks"],
            "headline_k": first["headline_k"],
            "image_distance": first["image_distance"],
        }
        for role in ("ratio", *ROLES):
            field = "value" if role == "ratio" else "score"
            by_k = {}
            for position, item in enumerate(first[role]):
                per_seed = [d[role][position] for d in dispersions]
                by_k[str(item["k"])] = _across(
                    [p[field] for p in per_seed], [p["interval"] for p in per_seed]
                )
            entry[role] = by_k
        out["dispersion"] = entry
    if all(c is not None for c in copyings):
        values = [c["statistic"] for c in copyings]
        # A seed where C_T is undecidable leaves the set's score undefined; the decided seeds stay.
        undecided = {"score": None, "interval": None, "seeds": values}
        statistic = _across(values, [None] * len(copyings)) or undecided
        statistic["p_values"] = [c["p_value"] for c in copyings]
        statistic["global_z_u"] = [c["global"]["z_u"] for c in copyings]
        statistic["undefined"] = [c.get("undefined") for c in copyings]
        out["copying"] = statistic
    return out


def headline_ratio(entry: dict):
    """(K, ratio entry or None) at the headline K of a data set's dispersion."""
    dispersion = entry.get("dispersion")
    if not dispersion:
        return None, None
    k = str(dispersion["headline_k"])
    return int(k), dispersion["ratio"].get(k)


def check_dispersion_trend(datasets: dict, threshold: float) -> dict:
    """The successor's trend (Zhou et al. 2021), one check per ``dispersion-*`` family the sweep
    ran (``trend_dispersion-image``, ``trend_dispersion-shape``): across ``dispersion-image.n``
    the predictions' DS falls as the training images' DS rises (Spearman ρ ≤ −threshold); across
    ``dispersion-shape.n`` it rises with the training shapes' DS (ρ ≥ threshold), at the headline
    K. "not made" for a family with fewer than 3 trained sets or without the instrument."""
    from scipy import stats  # imported here: ~0.8 s of every command's start otherwise

    out = {}
    for family, (role, sign, key) in TREND_FAMILIES.items():
        entries = sorted((e["n"], e) for e in datasets.values() if e.get("family") == family)
        if not entries:
            continue
        ready = [e for _, e in entries if e.get("dispersion") and e.get("trained", True)]
        if len(ready) < 3 or len(ready) < len(entries):
            reason = f"needs ≥ 3 trained sets of {family} with the dispersion score"
            out[key] = {"status": "not made", "passed": False, "reason": reason}
            continue
        k = str(ready[0]["dispersion"]["headline_k"])
        inputs = [e["dispersion"][role][k] for e in ready]
        outputs = [e["dispersion"]["predictions"][k] for e in ready]
        if any(v is None for v in inputs + outputs):
            out[key] = {"status": "not made", "passed": False, "reason": f"DS undefined at K={k}"}
            continue
        x, y = [v["score"] for v in inputs], [v["score"] for v in outputs]
        rho = float(np.nan_to_num(stats.spearmanr(x, y).statistic))
        passed = sign * rho >= threshold
        out[key] = {
            "status": "passed" if passed else "failed",
            "passed": passed,
            "spearman_rho": rho,
            "expected_sign": sign,
            "threshold": threshold,
            "k": int(k),
            "input_ds": x,
            "output_ds": y,
        }
    return out
