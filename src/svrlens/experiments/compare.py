"""Two sweeps' ``results.json`` side by side: what a change of preset (fewer epochs, bfloat16, …)
does to the verdicts and to the paper's statistic, seed by seed (``svrlens compare``).

Per data set in both: the output tendency (fig. 4's statistic) of each sweep over its seeds, and
the difference of the means with a Welch t interval (the seeds of each sweep are its only
replicates: a difference inside the interval is within seed-to-seed spread); the within-cluster
gain likewise; the verdicts per seed and how many (set, seed) pairs agree. Then each check of the
paper's result in both, with every seed's Spearman ρ. Reads result files only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.errors import InputError
from svrlens.io import read_json

from .results import check_word, seeds_rho_text

STATISTICS = {"output_tendency": "output tendency", "statistic": "within-cluster gain"}


def load_results(path) -> dict:
    """A sweep's ``results.json`` (or the sweep directory holding it); InputError naming the file
    when it is missing, not JSON or not a results file."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise InputError("no such results file (expected a sweep's results.json or its directory)", path)
    results = read_json(path)
    datasets = results.get("datasets") if isinstance(results, dict) else None
    if not isinstance(datasets, dict) or not all(isinstance(e, dict) for e in datasets.values()):
        raise InputError('not a sweep\'s results.json (expected an object with "datasets")', path)
    for name, entry in datasets.items():
        problem = _entry_problem(entry)
        if problem:
            raise InputError(f"set {name!r}: {problem}", path)
    if not datasets:
        raise InputError("holds no data set", path)
    return results


def _number(value, *, none: bool = False) -> bool:
    if value is None:
        return none
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def _entry_problem(entry: dict) -> str | None:
    """What is wrong with a results.json set entry for a comparison, or None."""
    seeds = entry.get("seeds")
    integer = lambda value: _number(value) and isinstance(value, int)  # noqa: E731
    if not isinstance(entry.get("family"), str) or not integer(entry.get("n")):
        return 'expected "family" (a string) and "n" (an integer)'
    if not isinstance(seeds, list) or not seeds or not all(map(integer, seeds)):
        return 'expected "seeds", a list of integers'
    verdicts = entry.get("verdicts", [entry.get("verdict")] * len(seeds))
    if not isinstance(verdicts, list) or len(verdicts) != len(seeds):
        return f'expected "verdicts", one per seed ({len(seeds)})'
    if not all(v is None or isinstance(v, str) for v in verdicts):
        return 'expected "verdicts" of strings (or null)'
    for key in STATISTICS:
        statistic = entry.get(key)
        if not isinstance(statistic, dict) or not _number(statistic.get("score"), none=key == "statistic"):
            return f'expected "{key}" with a finite "score"'
        values = statistic.get("seeds", [statistic["score"]] * len(seeds))
        if not isinstance(values, list) or len(values) != len(seeds):
            return f'expected "{key}.seeds", one finite number (or null) per seed ({len(seeds)})'
        if not all(_number(v, none=True) for v in values):
            return f'expected "{key}.seeds" of finite numbers (or null)'
    return None


def welch_interval(a, b, confidence: float = 0.95) -> list[float] | None:
    """Interval of mean(b) − mean(a) (Welch's t, unequal variances); None with < 2 values in a
    side or no spread in both (the interval is not defined)."""
    from scipy import stats  # imported here: ~0.8 s of every command's start otherwise

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return None
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf((1 + confidence) / 2, dof) * np.sqrt(va + vb)
    delta = b.mean() - a.mean()
    return [float(delta - half), float(delta + half)]


def seed_values(entry: dict, key: str) -> list[float | None]:
    """Per-seed values of a set's statistic (None where a seed's is undefined)."""
    statistic = entry.get(key) or {}
    return list(statistic.get("seeds") or [statistic.get("score")])


def _statistic_row(first: dict, second: dict, key: str) -> dict:
    a, b = seed_values(first, key), seed_values(second, key)
    decided_a, decided_b = [v for v in a if v is not None], [v for v in b if v is not None]
    row = {"first": a, "second": b, "difference": None, "interval": None}
    if decided_a and decided_b:
        row["difference"] = float(np.mean(decided_b) - np.mean(decided_a))
        row["interval"] = welch_interval(decided_a, decided_b)
        row["within_seed_spread"] = (
            None if row["interval"] is None else bool(row["interval"][0] <= 0 <= row["interval"][1])
        )
    return row


def compare_results(first: dict, second: dict) -> dict:
    """The comparison of two loaded results (:func:`load_results`) as JSON-ready data."""
    common = [name for name in first["datasets"] if name in second["datasets"]]
    if not common:
        raise InputError("the two results have no data set in common: nothing to compare")
    sets, agree, pairs = {}, 0, 0
    for name in common:
        a, b = first["datasets"][name], second["datasets"][name]
        verdicts_a = a.get("verdicts") or [a.get("verdict")]
        verdicts_b = b.get("verdicts") or [b.get("verdict")]
        by_seed_b = dict(zip(b["seeds"], verdicts_b))
        for seed, verdict in zip(a["seeds"], verdicts_a):  # paired by seed value
            if verdict is not None and by_seed_b.get(seed) is not None:
                pairs += 1
                agree += verdict == by_seed_b[seed]
        sets[name] = {
            "verdicts": [verdicts_a, verdicts_b],
            "cases": [a.get("cases") or [a.get("case")], b.get("cases") or [b.get("case")]],
            **{key: _statistic_row(a, b, key) for key in STATISTICS},
        }
    checks = {}
    for key in sorted(set(first.get("checks") or {}) & set(second.get("checks") or {}) - {"passed"}):
        pair = [first["checks"][key], second["checks"][key]]
        if all(isinstance(c, dict) for c in pair):
            checks[key] = pair
    return {
        "sets": sets,
        "only_in_one": sorted(set(first["datasets"]) ^ set(second["datasets"])),
        "verdict_agreement": {"same": agree, "pairs": pairs},
        "checks": checks,
    }


def _values(values) -> str:
    return " ".join("  –  " if v is None else f"{v:.2f}" for v in values)


def _difference(row: dict) -> str:
    if row["difference"] is None:
        return "–"
    interval = row["interval"]
    if interval is None:
        seeds = min(sum(v is not None for v in row[side]) for side in ("first", "second"))
        why = "one seed on a side" if seeds < 2 else "no spread between seeds"
        return f"{row['difference']:+.3f} (no interval: {why})"
    spread = "within seed spread" if row["within_seed_spread"] else "beyond it"
    return f"{row['difference']:+.3f} [{interval[0]:+.2f}, {interval[1]:+.2f}] {spread}"


def format_comparison(comparison: dict, labels: tuple[str, str]) -> str:
    """The printed comparison: one block per statistic, then verdicts, then the checks."""
    first, second = labels
    lines = []
    for key, title in STATISTICS.items():
        lines.append(f"{title} per seed: {first} | {second} | difference of the means (Welch 95 %)")
        for name, row in comparison["sets"].items():
            r = row[key]
            values = f"{_values(r['first']):>16s} | {_values(r['second']):>16s}"
            lines.append(f"  {name:8s} {values} | {_difference(r)}")
    lines.append(f"verdicts per seed: {first} | {second}")
    for name, row in comparison["sets"].items():
        a, b = row["verdicts"]
        lines.append(f"  {name:8s} {', '.join(map(str, a))} | {', '.join(map(str, b))}")
    agreement = comparison["verdict_agreement"]
    if agreement["pairs"]:
        lines.append(f"  the same verdict on {agreement['same']} of {agreement['pairs']} (set, seed) pairs")
    for key, (a, b) in comparison["checks"].items():
        for label, check in ((first, a), (second, b)):
            rho = f", rho {check['spearman_rho']:.3f}" if _number(check.get("spearman_rho")) else ""
            per_seed, interval = check.get("per_seed_rho"), check.get("rho_interval")
            readable = all(isinstance(x, list) and all(map(_number, x)) for x in (per_seed, interval))
            seeds = seeds_rho_text(check) if readable else ""
            lines.append(f"{key} ({label}): {check_word(check)}{rho}{seeds}")
    if comparison["only_in_one"]:
        lines.append(f"in one sweep only (not compared): {', '.join(comparison['only_in_one'])}")
    return "\n".join(lines)
