"""From run records to ``results.json``: one entry per data set (over its seeds), the paper's
result checked, and the printed table.

Intervals over seeds are computed from the seeds' own values (a t interval of their mean), never
as the mean of per-seed bootstrap bounds; with one seed, that run's bootstrap interval is kept,
and the entry says which (``interval_kind``). A set's verdict is the seeds' common verdict, or
"mixed" when they disagree. A run whose model did not train (on its own training split, its
Chamfer not below the best single training shape's, both scored against the dense clouds:
:func:`svrlens.training.trained.trained_check`) is flagged; no check counts it.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from svrlens.data.subsample import FAMILY_BASE

from .instruments import aggregate_instruments, check_dispersion_trend, headline_ratio

SPEARMAN_THRESHOLD = 0.7
METRICS = ("model", "oracle_nn", "retrieval", "clustering")
TENDENCIES = ("image_tendency", "shape_tendency", "output_tendency")


def group_by_name(records) -> dict:
    groups = defaultdict(list)
    for record in records:
        groups[record["name"]].append(record)
    return dict(groups)


def across_seeds(values, intervals=None, confidence: float = 0.95) -> dict:
    """Mean of per-seed values with an interval: the single seed's own (bootstrap) interval, or a
    t interval of the mean across several seeds."""
    from scipy import stats  # imported here: ~0.8 s of every command's start otherwise

    values = np.asarray(values, np.float64)
    out = {"score": float(values.mean()), "seeds": [float(v) for v in values]}
    if len(values) == 1:
        out["interval"] = (
            None if intervals is None or intervals[0] is None else [float(v) for v in intervals[0]]
        )
        # The seed's own bootstrap: over training samples for the image and shape tendencies,
        # over test samples for the outputs' and the scores'.
        out["interval_kind"] = None if out["interval"] is None else "this seed's bootstrap (one seed)"
    else:
        half = stats.t.ppf((1 + confidence) / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
        out["interval"] = [float(values.mean() - half), float(values.mean() + half)]
        out["interval_kind"] = f"t interval of the mean over {len(values)} seeds"
    return out


def _tendency(records: list[dict], key: str) -> dict:
    first = records[0][key]
    entry = across_seeds([r[key]["score"] for r in records], [r[key]["interval"] for r in records])
    entry["n_clusters"] = [r[key]["n_clusters"] for r in records]
    if first.get("null") is not None:
        entry["clustered"] = [bool(r[key]["clustered"]) for r in records]
        entry["null_quantile"] = float(np.mean([r[key]["null"]["null_quantile"] for r in records]))
    return entry


def _method(records: list[dict], key: str) -> dict:
    entry = {}
    for field in ("chamfer", "excess"):
        summary = across_seeds(
            [r[key][field] for r in records], [r[key][f"{field}_interval"] for r in records]
        )
        entry[field], entry[f"{field}_interval"] = summary["score"], summary["interval"]
    thresholds = len(records[0][key]["fscore"])
    f = [
        across_seeds([r[key]["fscore"][k] for r in records], [r[key]["fscore_interval"][k] for r in records])
        for k in range(thresholds)
    ]
    entry["fscore"] = [s["score"] for s in f]
    entry["fscore_interval"] = [s["interval"] for s in f]
    return entry


def aggregate(records: list[dict]) -> dict:
    """One data set's entry from its runs (one per seed)."""
    first = records[0]
    verdicts = [r["verdict"] for r in records]
    statistic = across_seeds(
        [r["statistic"]["value"] for r in records], [r["statistic"]["interval"] for r in records]
    )
    untrained = [r["seed"] for r in records if not r.get("training", {}).get("trained", True)]
    entry = {
        "family": first["family"],
        "n": first["n"],
        "seeds": [r["seed"] for r in records],
        "runs": [r["run"] for r in records],
        "diagnosis_dirs": [r["diagnosis_dir"] for r in records],
        "dataset_sha256": first["dataset_sha256"],
        "train_morph": first.get("train_morph"),
        "train_clusters": first.get("train_clusters"),
        "conventions": first["conventions"],
        "training_seconds": float(sum(r["training"]["seconds"] for r in records)),
        "verdict": verdicts[0] if len(set(verdicts)) == 1 else "mixed",
        "verdicts": verdicts,
        "statistic": statistic
        | {
            "name": first["statistic"]["name"],
            "form": first["statistic"]["form"],
            "per_seed": [r["statistic"] for r in records],
        },
        "case": first["case"] if len({r["case"] for r in records}) == 1 else None,
        "cases": [r["case"] for r in records],
        "sampling_floor": float(np.mean([r["sampling_floor"] for r in records]))
        if first["sampling_floor"]
        else None,
        "trained": not untrained,
        "untrained_seeds": untrained,
        "memorisation": _mean_or_none([r["memorisation"] for r in records]),
        "codeword_silhouette_by_label": _mean_or_none(
            [r.get("codeword_silhouette_by_label") for r in records]
        ),
        "evidence": first["evidence"]
        if len(records) == 1
        else [f"seed {r['seed']}: {r['verdict_sentence']}" for r in records],
        "verdict_sentence": first["verdict_sentence"] if len(records) == 1 else None,
    }
    entry |= aggregate_instruments(records)
    for key in TENDENCIES:
        entry[key] = _tendency(records, key)
    for key in METRICS:
        entry[key] = _method(records, key)
    return entry


def _mean_or_none(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _status(passed: bool) -> str:
    return "passed" if passed else "failed"


def _not_made(reason: str) -> dict:
    return {"status": "not made", "passed": False, "reason": reason}


def _family(datasets: dict, prefix: str) -> list:
    return sorted((v["n"], k, v) for k, v in datasets.items() if v["family"] == prefix)


def _untrained(entries) -> list[str]:
    return [name for _, name, e in entries if not e.get("trained", True)]


def _rising(twos: list) -> dict:
    from scipy import stats  # imported here: ~0.8 s of every command's start otherwise

    if _untrained(twos):
        return _not_made(f"models that did not train: {', '.join(_untrained(twos))}")
    # With three sets a random order reaches rho = 1 one time in six (3! orders): no threshold on
    # rho can tell a trend from chance. Four sets are the fewest where rho = 1 has p = 1/24 < 0.05.
    if len(twos) < 4:
        chance = f" (a random order of {len(twos)} reaches rho 1 with p = 1/{math.factorial(len(twos))})"
        return _not_made(f"needs ≥ 4 sets of 1.2.n, found {len(twos)}" + (chance if len(twos) > 1 else ""))
    ns = [n for n, _, _ in twos]
    per_seed = np.array([v["output_tendency"]["seeds"] for _, _, v in twos])  # (sets, seeds)
    rhos = [
        float(np.nan_to_num(stats.spearmanr(ns, per_seed[:, s]).statistic)) for s in range(per_seed.shape[1])
    ]
    rho = float(np.nan_to_num(stats.spearmanr(ns, per_seed.mean(1)).statistic))
    return {
        "status": _status(rho >= SPEARMAN_THRESHOLD),
        "passed": rho >= SPEARMAN_THRESHOLD,
        "spearman_rho": rho,
        "per_seed_rho": rhos,
        # a t interval of the per-seed rhos' mean, clipped to rho's range (few seeds: wide)
        "rho_interval": list(np.clip(across_seeds(rhos)["interval"], -1.0, 1.0)) if len(rhos) > 1 else None,
        "threshold": SPEARMAN_THRESHOLD,
        "output_tendency": {k: v["output_tendency"]["score"] for _, k, v in twos},
    }


def _flat(ones: list, twos: list) -> dict:
    if not ones or not twos:
        return _not_made("needs sets of both 1.1.n and 1.2.n")
    if _untrained(ones + twos):
        return _not_made(f"models that did not train: {', '.join(_untrained(ones + twos))}")
    _, low_name, low = min(twos, key=lambda item: item[2]["output_tendency"]["score"])
    if low["output_tendency"]["interval"] is None:
        return _not_made(f"no interval for {low_name}")
    ceiling = low["output_tendency"]["interval"][1]
    above = [k for _, k, v in ones if v["output_tendency"]["interval"][0] > ceiling]
    return {
        "status": _status(not above),
        "passed": not above,
        "lowest_1.2": low_name,
        "ceiling": ceiling,
        "above": above,
        "output_tendency": {k: v["output_tendency"]["score"] for _, k, v in ones},
    }


def _main_claim(entries: list) -> dict:
    """Recognition in Case 1 only: every Case-1 set reads "recognition", every other set
    "reconstruction" (a "mixed" or "collapsed" verdict breaks it either way)."""
    if not entries:
        return _not_made("no sets of the synthetic families")
    if _untrained(entries):
        return _not_made(f"models that did not train: {', '.join(_untrained(entries))}")
    unsure = [k for _, k, v in entries if v["case"] is None]
    if unsure:
        return _not_made(f"the seeds disagree on the Case of {', '.join(unsure)}")
    expected = {k: "recognition" if v["case"] == 1 else "reconstruction" for _, k, v in entries}
    broken = [k for _, k, v in entries if v["verdict"] != expected[k]]
    return {
        "status": _status(not broken),
        "passed": not broken,
        "expected": expected,
        "verdicts": {k: v["verdict"] for _, k, v in entries},
        "cases": {k: v["case"] for _, k, v in entries},
        "broken": broken,
    }


def check_paper_result(datasets: dict) -> dict:
    """The paper's claims, tested on the sets present.

    - ``rising_1.2`` (fig. 4): Spearman ρ between n and the output tendency of 1.2.n ≥ 0.7 (on
      the across-seed means; per-seed ρ recorded);
    - ``flat_1.1`` (fig. 4): no 1.1.n output tendency lies above the lowest 1.2.n one by more than
      the intervals;
    - ``main_claim`` (sec. 3.1): the verdict is "recognition" in Case 1 and "reconstruction" in the
      other Cases, over every set of the synthetic families (1.1, 1.2, 2.1, 2.2, dispersion-*);
    - ``trend_dispersion-image`` / ``trend_dispersion-shape``, when the sweep runs those families:
      the successor's trend of the predictions' dispersion score (:mod:`.instruments`), with the
      same threshold |ρ| ≥ 0.7.

    A check that cannot be made (too few sets, an untrained model, seeds that disagree on a Case)
    has ``status`` "not made" and does not pass; ``passed`` is True only when every check was
    made and passed.
    """
    ones, twos = _family(datasets, "1.1"), _family(datasets, "1.2")
    synthetic = [item for prefix in FAMILY_BASE for item in _family(datasets, prefix)]
    checks = {
        "rising_1.2": _rising(twos),
        "flat_1.1": _flat(ones, twos),
        "main_claim": _main_claim(synthetic),
        **check_dispersion_trend(datasets, SPEARMAN_THRESHOLD),
    }
    checks["passed"] = all(c["status"] == "passed" for c in checks.values())
    return checks


def _interval(values) -> str:
    return "–" if values is None else "[{:.2f}, {:.2f}]".format(*values)


def format_results(results: dict) -> str:
    """The verdict per data set and the checks, as printed by ``svrlens reproduce``."""
    header = (
        f"{'set':10s} {'case':>4s} {'verdict':>15s} {'gain':>5s} {'interval':>13s} {'images':>6s} "
        f"{'shapes':>6s} {'output':>6s} {'DS ratio':>8s} {'C_T':>6s} {'model ex':>8s} {'oracle ex':>9s}"
    )
    lines = [header, "-" * len(header)]
    for name, e in results["datasets"].items():
        flag = "" if e.get("trained", True) else f"  (DID NOT TRAIN: seeds {e['untrained_seeds']})"
        case = "?" if e["case"] is None else str(e["case"])
        lines.append(
            f"{name:10s} {case:>4s} {e['verdict']:>15s} {e['statistic']['score']:5.2f} "
            f"{_interval(e['statistic']['interval']):>13s} {e['image_tendency']['score']:6.3f} "
            f"{e['shape_tendency']['score']:6.3f} {e['output_tendency']['score']:6.3f} "
            f"{_ratio(e):>8s} {_copying(e):>6s} "
            f"{e['model']['excess']:8.4f} {e['oracle_nn']['excess']:9.4f}{flag}"
        )
    for mode, e in (results.get("label_study") or {}).items():
        lines.append(
            f"labels {mode:5s} Chamfer {e['model']['chamfer']:.4f} "
            f"(Oracle-NN {e['oracle_nn']['chamfer']:.4f}), "
            f"codeword silhouette by label {e['codeword_silhouette_by_label']}, verdict {e['verdict']}"
        )
    if results.get("real_checks"):
        from .real import format_real

        lines += format_real(results["real_checks"])
    lines += _check_lines(results.get("checks") or {})
    prov = results.get("provenance") or {}
    if "wall_seconds" in prov:
        lines.append(
            f"{prov['runs']} runs ({prov['runs_skipped']} already finished), "
            f"{prov['wall_seconds']:.0f} s wall"
        )
    if results.get("caveat"):
        lines.append(f"NOTE — {results['caveat']}")
    return "\n".join(lines)


def _ratio(entry: dict) -> str:
    """DS(predictions) / DS(test truths) at the headline K, e.g. "0.93@2" ("–" where undefined)."""
    k, ratio = headline_ratio(entry)
    return "–" if ratio is None else f"{ratio['score']:.2f}@{k}"


def _copying(entry: dict) -> str:
    copying = entry.get("copying")
    if copying is None:
        return "–"
    return "undec." if copying["score"] is None else f"{copying['score']:+.1f}"


def check_word(check: dict) -> str:
    """REPRODUCED, NOT reproduced or NOT MADE: a check's status as the printouts say it."""
    return {"passed": "REPRODUCED", "failed": "NOT reproduced"}.get(check["status"], "NOT MADE")


MAIN_CLAIM = "recognition in Case 1, reconstruction in Cases 2 and 3 (sec. 3.1)"


def broken_text(check: dict) -> str:
    """ "1.1.2 (Case 3, mixed), 1.2.6 (Case 1, mixed)" for the sets that break ``main_claim``
    (each with its Case and the verdict it read), "none" when none does."""
    cases, verdicts = check.get("cases") or {}, check.get("verdicts") or {}

    def named(k):  # results files written before cases were recorded name the set alone
        return f"{k} (Case {cases[k]}, {verdicts[k]})" if k in cases and k in verdicts else k

    return ", ".join(named(k) for k in check["broken"]) or "none"


def seeds_rho_text(check: dict) -> str:
    """ "; per seed 0.821, 0.714, 0.536 (their mean 0.690 [0.33, 1.00])" for a check with
    per-seed Spearman ρ over several seeds (the check itself is the ρ of the seeds' mean
    tendencies, another number), "" with one seed."""
    rhos = check.get("per_seed_rho") or []
    if len(rhos) < 2:
        return ""
    interval = check.get("rho_interval") or [float("nan")] * 2
    listed = ", ".join(f"{r:.3f}" for r in rhos)
    return f"; per seed {listed} (their mean {np.mean(rhos):.3f} [{interval[0]:.2f}, {interval[1]:.2f}])"


def _check_lines(checks: dict) -> list[str]:
    lines = []
    for key, text in (
        (
            "rising_1.2",
            lambda c: (
                f"Spearman rho(n, mean output tendency) = {c['spearman_rho']:.3f} (needs >= {c['threshold']})"
                + seeds_rho_text(c)
            ),
        ),
        (
            "flat_1.1",
            lambda c: (
                f"no 1.1.n output tendency wholly above the lowest 1.2.n's ({c['lowest_1.2']}: "
                f"interval up to {c['ceiling']:.3f})"
                + (f"; wholly above: {', '.join(c['above'])}" if c["above"] else "")
            ),
        ),
        (
            "main_claim",
            lambda c: MAIN_CLAIM + (f"; broken by {broken_text(c)}" if c["broken"] else ""),
        ),
        *(
            (
                key,
                lambda c: (
                    f"Spearman rho(training DS, predictions' DS at K={c['k']}) = {c['spearman_rho']:.3f} "
                    f"(needs {'<= -' if c['expected_sign'] < 0 else '>= '}{c['threshold']})"
                ),
            )
            for key in ("trend_dispersion-image", "trend_dispersion-shape")
        ),
    ):
        check = checks.get(key)
        if check is None:
            continue
        body = f"not made: {check['reason']}" if check["status"] == "not made" else text(check)
        lines.append(f"{key}: {body}: {check_word(check)}")
    return lines
