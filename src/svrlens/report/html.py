"""``report.html``: one self-contained file (figures inline as data URIs, no scripts or fonts
fetched, opens offline in any browser), built from ``results.json`` and the run directories.

Every value that comes from results (data-set names, paths, user-chosen spec names, evidence
text) is HTML-escaped; nothing is interpolated unescaped except the markup written here.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

from svrlens.errors import InputError
from svrlens.io import atomic_write, read_json

from . import figures

REPORT = "report.html"

_QUESTION = (
    "Does the network <em>reconstruct</em> the shape in the image, or <em>recognise</em> the image and "
    "emit a memorised shape? The paper's answer: it recognises only when the training shapes are "
    "clustered and the training images are not (Case 1); otherwise it reconstructs. The clustering "
    "tendency (mean silhouette, eq. 10) of the training images, the training shapes and the predictions "
    "measures which case a data set is in and what the network did."
)

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;\
max-width:1100px;padding:1.5em;color:#1d1d1f}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.86em;margin:.6em 0}\
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right}
th{background:#f4f4f6}td.l,th.l{text-align:left}.recognition{color:#b3261e;font-weight:600}.reconstruction{color:#1b6e2f;font-weight:600}
.pass{color:#1b6e2f;font-weight:600}.fail{color:#b3261e;font-weight:600}figure{margin:1em 0}\
figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}pre{background:#f6f6f8;padding:.8em;overflow:auto;font-size:.8em}\
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dt{font-weight:600}dd{margin:0;word-break:break-all}.broken{outline:3px solid #b3261e}
"""

# Marks any figure that failed to decode (visible outline) and records the count for tests.
_CHECK = """<script>
window.addEventListener('load',function(){var bad=0;document.querySelectorAll('img').forEach(function(i){
if(!i.complete||i.naturalWidth===0){bad++;i.classList.add('broken');}});document.body.setAttribute('data-broken-figures',String(bad));});
</script>"""


def _fmt(value, digits=3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def _interval(entry: dict | None, key="interval", digits=3) -> str:
    if not entry or entry.get(key) is None:
        return "–"
    low, high = entry[key]
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def _image(path: Path, caption: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return (
        f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _verdict_table(datasets: dict) -> str:
    rows = []
    for name, e in datasets.items():
        verdict = str(e["verdict"])
        rows.append(
            f'<tr><td class="l">{escape(name)}</td><td>{_fmt(e["case"])}</td>'
            f'<td class="l {escape(verdict)}">{escape(verdict)}</td>'
            f"<td>{_fmt(e['image_tendency']['score'])}</td><td>{_fmt(e['shape_tendency']['score'])}</td>"
            f"<td>{_fmt(e['output_tendency']['score'])} {_interval(e['output_tendency'])}</td>"
            f"<td>{_fmt(e.get('memorisation'))}</td></tr>"
        )
    return (
        '<table><tr><th class="l">data set</th><th>case</th><th class="l">verdict</th>'
        "<th>image tendency</th><th>shape tendency</th>"
        "<th>output tendency [95 %]</th><th>memorisation</th></tr>" + "".join(rows) + "</table>"
    )


def _checks(checks: dict | None) -> str:
    if not checks:
        return ""
    items = []
    rising, flat = checks.get("rising_1.2"), checks.get("flat_1.1")
    if rising is not None:
        ok = "pass" if rising["passed"] else "fail"
        items.append(
            f'<li class="{ok}">1.2.1 → 1.2.7: output tendency rises as the image tendency falls — '
            f"Spearman ρ(n, output tendency) = {rising['spearman_rho']:.3f} (needs ≥ {rising['threshold']}): "
            f"{'reproduced' if rising['passed'] else 'not reproduced'}</li>"
        )
    if flat is not None:
        ok = "pass" if flat["passed"] else "fail"
        detail = (
            "none above" if not flat["above"] else "above: " + ", ".join(escape(a) for a in flat["above"])
        )
        items.append(
            f'<li class="{ok}">1.1.1 → 1.1.7: output tendency stays low — '
            f"no set above the lowest 1.2.n ({escape(flat['lowest_1.2'])}, "
            f"upper bound {flat['ceiling']:.3f}) by more than the intervals ({detail}): "
            f"{'reproduced' if flat['passed'] else 'not reproduced'}</li>"
        )
    return "<h2>The paper's result (fig. 4), checked</h2><ul>" + "".join(items) + "</ul>" if items else ""


def _numbers_table(datasets: dict, thresholds: list, relative: bool) -> str:
    unit = " of the box side" if relative else ""
    head = ['<th class="l">data set</th>'] + [
        f"<th>{t}</th>" for t in ("image tendency", "shape tendency", "output tendency")
    ]
    for key in ("model", "Oracle-NN", "retrieval", "clustering"):
        head += [f"<th>{key} Chamfer</th>"] + [f"<th>{key} F@{t:g}{unit}</th>" for t in thresholds]
    rows = []
    for name, e in datasets.items():
        cells = [f'<td class="l">{escape(name)}</td>']
        for key in ("image_tendency", "shape_tendency", "output_tendency"):
            std = e[key].get("seed_std")
            cells.append(
                f"<td>{_fmt(e[key]['score'])}<br>{_interval(e[key])}"
                f"{'' if std is None else f'<br>± {std:.3f} (seeds)'}</td>"
            )
        for key in ("model", "oracle_nn", "retrieval", "clustering"):
            m = e[key]
            cells.append(f"<td>{_fmt(m['chamfer'], 4)}<br>{_interval(m, 'chamfer_interval', 4)}</td>")
            cells += [
                f"<td>{_fmt(f)}<br>[{lo:.3f}, {hi:.3f}]</td>"
                for f, (lo, hi) in zip(m["fscore"], m["fscore_interval"])
            ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<div style="overflow-x:auto"><table><tr>'
        + "".join(head)
        + "</tr>"
        + "".join(rows)
        + "</table></div>"
    )


def _provenance(results: dict) -> str:
    prov = dict(results.get("provenance") or {})
    hardware = prov.pop("hardware", {}) or {}
    hashes = prov.pop("data_sha256", {}) or {}
    items = [(k, v) for k, v in prov.items()] + [(f"hardware: {k}", v) for k, v in hardware.items()]
    body = "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in items)
    digests = "".join(
        f"<dt>{escape(str(name))}</dt><dd>{escape(json.dumps(h, sort_keys=True))}</dd>"
        for name, h in hashes.items()
    )
    spec = escape(json.dumps(results.get("spec"), indent=1))
    return (
        f"<h2>Provenance</h2><dl>{body}</dl>"
        f"<details><summary>data hashes (SHA-256 of every array)</summary><dl>{digests}</dl></details>"
        f"<details><summary>the spec (configuration, seeds)</summary><pre>{spec}</pre></details>"
    )


def _qualitative(datasets: dict, root: Path) -> list[str]:
    """Fig. 8: the diagnosis's qualitative figure of the first and last set of each family."""
    out = []
    for family, entries in figures.by_family(datasets).items():
        names = list(entries)
        for name in dict.fromkeys([names[0], names[-1]]):
            dirs = entries[name].get("diagnosis_dirs") or []
            path = root / dirs[0] / "figures" / "qualitative.png" if dirs else None
            if path is not None and path.is_file():
                out.append(
                    _image(
                        path, f"fig. 8 — {name}: input image, prediction, ground truth and Oracle-NN shape"
                    )
                )
    return out


def build_report(out_dir, *, title: str | None = None) -> Path:
    """Write ``out_dir/report.html`` from ``out_dir/results.json`` (and the figures under ``out_dir``)."""
    root = Path(out_dir)
    path = root / "results.json"
    if not path.is_file():
        raise InputError("no results.json here (run `svrlens reproduce` or `svrlens diagnose` first)", root)
    results = read_json(path)
    if not isinstance(results, dict) or not isinstance(results.get("datasets"), dict):
        raise InputError("not a svrlens results file (no 'datasets')", path)
    study = {f"labels: {mode}": entry for mode, entry in (results.get("label_study") or {}).items()}
    datasets = results["datasets"] or study  # a label study alone is reported as its own data sets
    if not datasets:
        raise InputError("holds no data sets", path)
    figure_dir = root / "figures"
    spec = results.get("spec") or {}
    evaluation = spec.get("evaluation") or next(iter(datasets.values()))["conventions"]
    thresholds = list(evaluation.get("thresholds", [0.05]))
    relative = bool(evaluation.get("relative", evaluation.get("thresholds_relative", True)))
    name = title or f"svrlens report — {spec.get('name', 'diagnosis')}"

    parts = [
        f"<h1>{escape(name)}</h1><p>{_QUESTION}</p>",
        "<h2>Verdict per data set</h2>",
        _verdict_table(datasets),
        _checks(results.get("checks")),
    ]
    parts.append("<h2>Figures</h2>")
    parts += [
        _image(
            p,
            "fig. 3 — training-set coverage: which shapes the training images show "
            "(colour: training cluster)",
        )
        for p in figures.coverage(datasets, figure_dir)
    ]
    parts.append(
        _image(
            figures.tendencies(datasets, figure_dir),
            "fig. 4 — clustering tendency of the training images (left) and training shapes (right) "
            "against that of the predictions, with 95 % bootstrap intervals",
        )
    )
    parts += [
        _image(p, "fig. 5 — distance matrices (blue small, red large); rows ordered by the morph parameter")
        for p in figures.distance_matrices(datasets, root, figure_dir)
    ]
    index = len(thresholds) - 1
    parts.append(
        _image(
            figures.scores(
                datasets,
                figure_dir,
                threshold_index=index,
                threshold_label=f"{thresholds[index]:g}" + (" of the box side" if relative else ""),
            ),
            "fig. 6 — the model against the Oracle-NN (the nearest training shape to the truth), "
            "with 95 % intervals",
        )
    )
    for name, entry in study.items():
        tsne = root / (entry.get("diagnosis_dirs") or ["."])[0] / "figures" / "tsne.png"
        if tsne.is_file():
            parts.append(
                _image(
                    tsne,
                    f"fig. 7 — t-SNE of test codewords, trained with {name}; silhouette by label "
                    f"{_fmt(entry.get('codeword_silhouette_by_label'))}, "
                    f"Chamfer {entry['model']['chamfer']:.4f}",
                )
            )
    parts += _qualitative(datasets | study, root)
    parts.append(
        "<h2>Every number</h2><p>Tendencies: mean silhouette with a 95 % bootstrap interval. "
        "Scores: means over the test samples with 95 % bootstrap intervals. "
        "Chamfer is eq. 2 (unsquared, both directions summed).</p>"
    )
    parts.append(_numbers_table(datasets, thresholds, relative))
    if study and datasets is not study:
        parts.append("<h3>Label study</h3>" + _numbers_table(study, thresholds, relative))
    parts.append(_provenance(results))
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(name)}</title><style>{_STYLE}</style></head><body>{''.join(parts)}{_CHECK}</body></html>\n"
    )
    return atomic_write(root / "report.html", lambda handle: handle.write(html.encode()))
