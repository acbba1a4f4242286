"""``report.html``: one self-contained file (figures inline as data URIs, no scripts or fonts
fetched, opens offline in any browser), built from ``results.json`` and the run directories.

Rendered from a Jinja2 template with autoescaping (:mod:`.template`), so every value that comes
from results (data-set names, paths, spec names, evidence text) is HTML-escaped. The verdict
comes first, with its rule and its statistic; the figures and every number follow.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from svrlens.errors import InputError
from svrlens.experiments.results import MAIN_CLAIM, broken_text, seeds_rho_text
from svrlens.io import read_json, write_text

from . import figures
from .template import CHECK, STYLE, TEMPLATE

REPORT = "report.html"


def _fmt(value, digits=3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _interval(values, digits=3) -> str:
    return "–" if not values else f"[{values[0]:.{digits}f}, {values[1]:.{digits}f}]"


def _figure(path: Path, caption: str) -> dict:
    return {"data": base64.b64encode(Path(path).read_bytes()).decode(), "caption": caption}


def _verdict_rows(datasets: dict) -> list[dict]:
    rows = []
    for name, e in datasets.items():
        statistic = e["statistic"]
        why = e.get("verdict_sentence") or "; ".join(e.get("evidence") or [])
        flag = (
            "" if e.get("trained", True) else f"did not train (seeds {e.get('untrained_seeds')}): not counted"
        )
        rows.append(
            {
                "name": name,
                "case": _fmt(e.get("case")),
                "verdict": str(e["verdict"]),
                "flag": flag,
                "gain": _fmt(statistic["score"], 2),
                "interval": _interval(statistic.get("interval"), 2),
                "why": why,
            }
        )
    return rows


def _checks(checks: dict | None) -> list[dict]:
    if not checks:
        return []
    described = {
        "rising_1.2": "1.2.1 → 1.2.7: the output tendency rises as the image tendency falls (fig. 4)",
        "trend_dispersion-image": "dispersion-image.n: the predictions' dispersion score falls as the "
        "training images' rises (Zhou et al. 2021)",
        "trend_dispersion-shape": "dispersion-shape.n: the predictions' dispersion score rises with the "
        "training shapes' (Zhou et al. 2021)",
        "flat_1.1": "1.1.1 → 1.1.7: no output tendency wholly above the lowest 1.2.n's (fig. 4)",
        "main_claim": f"the verdict is {MAIN_CLAIM}",
    }
    out = []
    for key, text in described.items():
        check = checks.get(key)
        if not isinstance(check, dict):
            continue
        status = check.get("status", "not made")
        detail = {
            "rising_1.2": lambda c: (
                f" — Spearman ρ = {c['spearman_rho']:.3f} (needs ≥ {c['threshold']})" + seeds_rho_text(c)
            ),
            "flat_1.1": lambda c: (
                f" — lowest 1.2.n {c['lowest_1.2']} (interval up to {c['ceiling']:.3f}); "
                f"wholly above it: {', '.join(c['above']) or 'none'}"
            ),
            "main_claim": lambda c: f" — broken by: {broken_text(c)}",
            "trend_dispersion-image": lambda c: f" — Spearman ρ = {c['spearman_rho']:.3f} (needs ≤ −0.7)",
            "trend_dispersion-shape": lambda c: f" — Spearman ρ = {c['spearman_rho']:.3f} (needs ≥ 0.7)",
        }[key]
        text += f" (not made: {check.get('reason')})" if status == "not made" else detail(check)
        word = {"passed": "reproduced", "failed": "not reproduced"}.get(status, "NOT MADE — does not pass")
        out.append({"css": status.replace(" ", ""), "text": text, "word": word})
    return out


def _real_checks(summary: dict | None) -> list[dict]:
    """Sec. 4 on real shapes (svrlens.experiments.real): one line per label mode, model vs
    Oracle-NN with its interval (is it within 1 %?), and the cost of labels."""
    if not summary:
        return []
    from svrlens.experiments.real import format_real

    calls = [c["within_1_percent"] for c in summary["oracle"].values()]
    css = {"yes": "passed", "no": "failed", "undecided": "notmade"}
    lines = format_real(summary)
    return [
        {
            "css": css[calls[k]] if k < len(calls) else "notmade",
            "text": line,
            "word": "sec. 4 on real shapes",
        }
        for k, line in enumerate(lines)
    ]


def _numbers_table(datasets: dict, thresholds: list, relative: bool, title: str = "") -> dict:
    unit = " of the box side" if relative else ""
    head = ["data set", "within-cluster gain", "image tendency", "shape tendency", "output tendency"]
    methods = (
        ("model", "model"),
        ("oracle_nn", "Oracle-NN"),
        ("retrieval", "retrieval"),
        ("clustering", "clustering"),
    )
    for _, label in methods:
        head += [f"{label} Chamfer", f"{label} excess"] + [f"{label} F@{t:g}{unit}" for t in thresholds]
    rows = []
    for name, e in datasets.items():
        cells = [[name], [_fmt(e["statistic"]["score"]), _interval(e["statistic"].get("interval"))]]
        for key in ("image_tendency", "shape_tendency", "output_tendency"):
            cells.append([_fmt(e[key]["score"]), _interval(e[key].get("interval"))])
        for key, _ in methods:
            m = e[key]
            cells.append([_fmt(m["chamfer"], 4), _interval(m.get("chamfer_interval"), 4)])
            cells.append([_fmt(m.get("excess"), 4), _interval(m.get("excess_interval"), 4)])
            cells += [[_fmt(f), _interval(i)] for f, i in zip(m["fscore"], m["fscore_interval"])]
        rows.append(cells)
    return {"title": title, "head": head, "rows": rows}


def _instruments_table(datasets: dict) -> dict | None:
    """The instruments side by side (issue 14): per data set the verdict statistic, the output
    tendency, the dispersion-score ratio per K with the training images' and shapes' DS at the
    headline K, and the copying test C_T with its p-value. None when no entry has them."""
    with_ds = [e["dispersion"] for e in datasets.values() if e.get("dispersion")]
    if not with_ds:
        return None
    ks = [str(k) for k in with_ds[0]["ks"]]
    headline = str(with_ds[0]["headline_k"])
    head = ["data set", "Case", "verdict", "within-cluster gain", "output tendency"]
    head += [f"DS ratio K={k}" for k in ks]
    head += [f"DS training images K={headline}", f"DS training shapes K={headline}", "C_T (p)"]
    rows = []
    for name, e in datasets.items():
        ds = e.get("dispersion") or {}
        cells = [[name], [_fmt(e.get("case"))], [str(e["verdict"])]]
        for key in ("statistic", "output_tendency"):
            cells.append([_fmt(e[key]["score"]), _interval(e[key].get("interval"))])
        for k in ks:
            r = (ds.get("ratio") or {}).get(k)
            cells.append(["–"] if r is None else [_fmt(r["score"], 2), _interval(r.get("interval"), 2)])
        for role in ("images", "shapes"):
            r = (ds.get(role) or {}).get(headline)
            cells.append(["–"] if r is None else [f"{r['score']:.4g}"])
        copying = e.get("copying")
        if copying is None:
            cells.append(["–"])
        elif copying["score"] is None:
            decided = [f"{v:+.2f}" for v in copying.get("seeds", []) if v is not None]
            note = f"decided seeds: {', '.join(decided)}" if decided else "truths within the noise"
            cells.append(["undecidable", note])
        else:
            p = ", ".join(f"{v:.2g}" for v in copying.get("p_values", []) if v is not None)
            cells.append([f"{copying['score']:+.2f}", f"p = {p}" if p else ""])
        rows.append(cells)
    return {"title": "Instruments side by side", "head": head, "rows": rows}


def _provenance(results: dict) -> tuple[list, list, str]:
    prov = dict(results.get("provenance") or {})
    hardware = prov.pop("hardware", {}) or {}
    hashes = prov.pop("data_sha256", {}) or {}
    items = [(k, str(v)) for k, v in prov.items()] + [(f"hardware: {k}", str(v)) for k, v in hardware.items()]
    digests = [(str(name), json.dumps(h, sort_keys=True)) for name, h in hashes.items()]
    spec = results.get("spec")
    return items, digests, "" if spec is None else json.dumps(spec, indent=1)


def _run_figure(root: Path, entry: dict, name: str) -> Path | None:
    dirs = entry.get("diagnosis_dirs") or []
    path = root / dirs[0] / "figures" / name if dirs else None
    return path if path is not None and path.is_file() else None


def _figures(root: Path, datasets: dict, study: dict, thresholds: list, relative: bool) -> list[dict]:
    out = root / "figures"
    items = [
        _figure(
            figures.verdict_statistics(datasets, out),
            "the verdict: within-cluster gain per data set with "
            "its interval; 0 = recognition (Definition 1), 1 = reconstruction (Definition 2), call at ½",
        )
    ]
    side_by_side = figures.instruments(datasets, out)
    if side_by_side is not None:
        items.append(
            _figure(
                side_by_side,
                "the instruments side by side across n: output tendency (silhouette), dispersion-score "
                "ratio DS(predictions) / DS(test truths) per K (1 = as dispersed as the truths), copying "
                "C_T (0 = as close to the training shapes as the truths; negative = copying) and the "
                "within-cluster gain (the verdict, call at ½)",
            )
        )
    single = len(datasets) == 1
    for name, entry in datasets.items() if single else []:
        path = _run_figure(root, entry, "verdict.png")
        if path is not None:
            items.append(
                _figure(
                    path,
                    f"{name}: where each prediction lands against where its truth is, coloured "
                    "by the training-shape cluster it falls into (flat within a colour: recognition)",
                )
            )
    items += [
        _figure(p, "fig. 3 — training-set coverage: which shapes the training images show (colour: cluster)")
        for p in figures.coverage(datasets, out)
    ]
    items.append(
        _figure(
            figures.tendencies(datasets, out),
            "fig. 4 — clustering tendency of the training images "
            "(left) and shapes (right) against that of the predictions, with 95 % intervals",
        )
    )
    ordering = (
        "ordered by the morph weight"
        if any(e.get("train_morph") for e in datasets.values())
        else "in stored order"
    )
    items += [
        _figure(
            p, f"fig. 5 — distance matrices (blue small, red large, each with its scale); samples {ordering}"
        )
        for p in figures.distance_matrices(datasets, root, out)
    ]
    index = len(thresholds) - 1
    label = f"{thresholds[index]:g}" + (" of the box side" if relative else "")
    scores = figures.scores(datasets, out, threshold_index=index, threshold_label=label)
    items.append(
        _figure(
            scores,
            "fig. 6 — the model against the Oracle-NN (the training shape that scores best "
            "against the truth): Chamfer excess over the sampling floor and F-score, 95 % intervals",
        )
    )
    for name, entry in (datasets | study).items():
        own = single or name in study or entry.get("family") is None  # a label / real study's model
        boxes = _run_figure(root, entry, "fig6-scores.png") if own else None
        if boxes is not None:
            items.append(
                _figure(
                    boxes,
                    f"fig. 6 — {name}: per-sample Chamfer and F-score of the model and all "
                    "three baselines (dashed: the sampling floor)",
                )
            )
        tsne = _run_figure(root, entry, "fig7-tsne.png")
        if tsne is not None:
            items.append(
                _figure(
                    tsne,
                    f"fig. 7 — {name}: t-SNE of the test codewords; silhouette by label "
                    f"{_fmt(entry.get('codeword_silhouette_by_label'))}",
                )
            )
    for family, entries in figures.by_family(datasets | study).items():
        names = list(entries)
        # a family's first and last set; every model of a label or real study (family None)
        for name in names if not family else dict.fromkeys([names[0], names[-1]]):
            path = _run_figure(root, entries[name], "fig8-qualitative.png")
            if path is not None:
                items.append(
                    _figure(
                        path,
                        f"fig. 8 — {name}: input image, prediction, ground truth and Oracle-NN "
                        "shape, drawn in the images' isometric view (colour: depth)",
                    )
                )
    return items


def build_report(out_dir, *, title: str | None = None) -> Path:
    """Write ``out_dir/report.html`` from ``out_dir/results.json`` (and the figures under ``out_dir``).

    Raises
    ------
    InputError
        No results.json, or one that is not a svrlens results file.
    """
    root = Path(out_dir)
    path = root / "results.json"
    if not path.is_file():
        raise InputError("no results.json here (run `svrlens reproduce` or `svrlens diagnose` first)", root)
    results = read_json(path)
    if not isinstance(results, dict) or not isinstance(results.get("datasets"), dict):
        raise InputError("not a svrlens results file (no 'datasets')", path)
    study = {f"labels: {mode}": entry for mode, entry in (results.get("label_study") or {}).items()}
    study |= {f"real: {mode}": entry for mode, entry in (results.get("real_study") or {}).items()}
    datasets = results["datasets"] or study  # a label study alone is reported as its own data sets
    if not datasets:
        raise InputError("holds no data sets", path)
    try:
        return _render(root, results, datasets, study if datasets is not study else {}, title)
    except (KeyError, TypeError, IndexError, ValueError) as error:
        raise InputError(
            f"not a complete svrlens results file ({type(error).__name__}: {error})", path
        ) from None


def _render(root: Path, results: dict, datasets: dict, study: dict, title: str | None) -> Path:
    from jinja2 import Environment

    spec = results.get("spec") or {}
    first = next(iter(datasets.values()))
    conventions = first["conventions"]
    thresholds = list(conventions.get("thresholds", [0.05]))
    relative = bool(conventions.get("thresholds_relative", True))
    floors = [e.get("sampling_floor") for e in datasets.values() if e.get("sampling_floor") is not None]
    tables = [t for t in (_instruments_table(datasets),) if t is not None]
    tables.append(_numbers_table(datasets, thresholds, relative))
    if study:
        tables.append(_numbers_table(study, thresholds, relative, "Label and real-shape studies"))
    provenance, hashes, spec_text = _provenance(results)
    context = {
        "title": title or f"svrlens report — {spec.get('name', 'diagnosis')}",
        "style": STYLE,
        "caveat": results.get("caveat"),
        "check_script": CHECK,
        "level": "95 %",
        "points": conventions.get("points_predicted", "P"),
        "floor": _fmt(sum(floors) / len(floors)) if floors else "not measured",
        "verdicts": _verdict_rows(datasets),
        "checks": _checks(results.get("checks")) + _real_checks(results.get("real_checks")),
        "figures": _figures(root, datasets, study, thresholds, relative),
        "numbers_note": "Intervals: 95 %; over test samples (bootstrap) for one seed, "
        "over seeds (t) for several. "
        "Chamfer is eq. 2 (unsquared, both directions summed) against the dense truth; excess is over the "
        "sampling floor.",
        "tables": tables,
        "provenance": provenance,
        "hashes": hashes,
        "spec": spec_text,
    }
    html = Environment(autoescape=True).from_string(TEMPLATE).render(**context)
    return write_text(root / REPORT, html)
