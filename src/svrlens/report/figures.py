"""The report's figures, drawn from ``results.json`` and the run directories (never live objects)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.data.figures import coverage_figure_of_weights
from svrlens.evaluation.figures import tendency_figure
from svrlens.plotting import save_figure, subplots

MATRIX_COLUMNS = (
    ("train_images", "training images (ℓ1)"),
    ("train_shapes", "training shapes (Chamfer excess)"),
    ("predictions", "predictions (Chamfer)"),
)
VERDICT_COLOURS = {
    "recognition": "#b3261e",
    "reconstruction": "#1b6e2f",
    "mixed": "#8a6d00",
    "collapsed": "#555",
}


def by_family(datasets: dict) -> dict:
    """family → {name: entry}, families and sets in natural order ("1.1" before "1.2", n ascending)."""
    out = {}
    for name, entry in sorted(
        datasets.items(), key=lambda item: (str(item[1].get("family")), item[1].get("n") or 0, item[0])
    ):
        out.setdefault(entry.get("family") or "", {})[name] = entry
    return out


def coverage(datasets: dict, out: Path) -> list[Path]:
    """Fig. 3: one coverage figure per family whose entries record their training weights."""
    paths = []
    for family, entries in by_family(datasets).items():
        sets = {
            name: (
                np.asarray(e["train_morph"]),
                None if e.get("train_clusters") is None else np.asarray(e["train_clusters"]),
            )
            for name, e in entries.items()
            if e.get("train_morph")
        }
        if sets:
            paths.append(
                coverage_figure_of_weights(
                    sets,
                    out / f"fig3-coverage-{family or 'data'}.png",
                    title=f"training-set coverage of {family}.n" if family else "training-set coverage",
                )
            )
    return paths


def tendencies(datasets: dict, out: Path) -> Path:
    """Fig. 4: input vs output tendency, one row per family."""
    rows = {f"sets {family}.n" if family else "": entries for family, entries in by_family(datasets).items()}
    return tendency_figure({}, out / "fig4-tendencies.png", rows=rows)


def distance_matrices(datasets: dict, root: Path, out: Path) -> list[Path]:
    """Fig. 5: per family, rows = data sets, columns = training images / training shapes / predictions
    (blue = small, red = large; each matrix scaled on its own), from each set's first run."""
    paths = []
    for family, entries in by_family(datasets).items():
        rows = [
            (name, root / e["diagnosis_dirs"][0] / "matrices.npz")
            for name, e in entries.items()
            if e.get("diagnosis_dirs")
        ]
        rows = [(name, path) for name, path in rows if path.is_file()]
        if not rows:
            continue
        fig, axes = subplots(len(rows), 3, figsize=(7.8, 2.2 * len(rows)), squeeze=False)
        for r, (name, path) in enumerate(rows):
            with np.load(path, allow_pickle=False) as matrices:
                for c, (key, title) in enumerate(MATRIX_COLUMNS):
                    ax = axes[r, c]
                    image = ax.imshow(matrices[key], cmap="RdBu_r", interpolation="nearest")
                    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=5)
                    ax.set_xticks([])
                    ax.set_yticks([])
                    if r == 0:
                        ax.set_title(title, fontsize=8)
                    if c == 0:
                        ax.set_ylabel(name, fontsize=9)
        fig.suptitle(f"distance matrices, sets {family}.n" if family else "distance matrices", fontsize=10)
        paths.append(save_figure(fig, out / f"fig5-matrices-{family or 'data'}.png"))
    return paths


def scores(datasets: dict, out: Path, *, threshold_index: int, threshold_label: str) -> Path:
    """Fig. 6: Chamfer excess over the sampling floor (left) and F-score (right) of the model and
    of the Oracle-NN per data set, with 95 % intervals. 0 excess is what a perfect output scores."""
    names = list(datasets)
    x = np.arange(len(names))
    fig, axes = subplots(1, 2, figsize=(max(7.0, 0.55 * len(names) + 3), 3.4))
    for offset, key, label in ((-0.12, "model", "model"), (0.12, "oracle_nn", "Oracle-NN")):
        for ax, field, index in ((axes[0], "excess", None), (axes[1], "fscore", threshold_index)):
            values = np.array([_value(datasets[n][key][field], index) for n in names])
            bounds = [_value(datasets[n][key][f"{field}_interval"], index) for n in names]
            low = np.array([np.nan if b is None else b[0] for b in bounds])
            high = np.array([np.nan if b is None else b[1] for b in bounds])
            yerr = np.nan_to_num([values - low, high - values])
            ax.errorbar(x + offset, values, yerr=yerr, fmt="o", capsize=2, label=label)
    axes[0].axhline(0, color="0.4", ls="--", lw=0.8)
    axes[0].set_title("Chamfer excess over the sampling floor, lower is better", fontsize=9)
    axes[1].set_title(f"F-score at {threshold_label}, higher is better", fontsize=9)
    for ax in axes:
        ax.set_xticks(x, names, rotation=60, fontsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return save_figure(fig, out / "fig6-scores.png")


def _value(entry, index):
    return entry if index is None else entry[index]


def verdict_statistics(datasets: dict, out: Path) -> Path:
    """The verdict's statistic per data set: the within-cluster gain with its interval, against
    the values of the two definitions (0: recognition, 1: reconstruction) and the midpoint ½ where
    the call is made; colour = verdict."""
    names = list(datasets)
    x = np.arange(len(names))
    fig, ax = subplots(figsize=(max(6.0, 0.5 * len(names) + 2.5), 3.4))
    for k, name in enumerate(names):
        statistic = datasets[name]["statistic"]
        value = statistic["score"]
        low, high = statistic["interval"] or (value, value)
        colour = VERDICT_COLOURS.get(datasets[name]["verdict"], "k")
        ax.errorbar(k, value, yerr=[[value - low], [high - value]], fmt="o", color=colour, capsize=3)
    for level, text in ((0.0, "Definition 1: recognition"), (1.0, "Definition 2: reconstruction")):
        ax.axhline(level, color="0.6", lw=0.8)
        ax.text(len(names) - 0.5, level, text, fontsize=7, color="0.35", ha="right", va="bottom")
    ax.axhline(0.5, color="0.3", ls="--", lw=0.8)
    ax.set_xticks(x, names, rotation=60, fontsize=7)
    ax.set_ylabel("within-cluster gain")
    ax.set_title("the verdict's statistic per data set (colour: verdict)", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    return save_figure(fig, out / "fig-verdict.png")


INSTRUMENT_PANELS = (
    ("output tendency (silhouette, eq. 10)", None),
    ("DS(predictions) / DS(test truths)", 1.0),
    ("copying C_T (Z_U per training cluster)", 0.0),
    ("within-cluster gain (the verdict)", 0.5),
)


def _instrument_values(entry: dict) -> list[tuple[str, float, list | None]]:
    """(label, value, interval) per panel of one data set: several lines for the DS ratio (one per K)."""
    out = [[("", entry["output_tendency"]["score"], entry["output_tendency"].get("interval"))]]
    ratios = (entry.get("dispersion") or {}).get("ratio") or {}
    out.append([(f"K={k}", r["score"], r.get("interval")) for k, r in ratios.items() if r is not None])
    copying = entry.get("copying")
    defined = copying is not None and copying["score"] is not None
    out.append([("", copying["score"], copying.get("interval"))] if defined else [])
    out.append([("", entry["statistic"]["score"], entry["statistic"].get("interval"))])
    return out


def instruments(datasets: dict, out: Path) -> Path | None:
    """The instruments side by side (issue 14): per family (rows), how the output tendency, the
    dispersion-score ratio (one line per K), the copying test C_T and the within-cluster gain move
    across n, with intervals. Reference lines: ratio 1 (as dispersed as the truths), C_T 0 (as close
    to the training shapes as the truths), gain ½ (the verdict's call). None without a family."""
    families = {f: e for f, e in by_family(datasets).items() if f and len(e) >= 2}
    if not families:
        return None
    fig, axes = subplots(len(families), 4, figsize=(13.0, 2.7 * len(families)), squeeze=False)
    for row, (family, entries) in enumerate(families.items()):
        ns = [e["n"] for e in entries.values()]
        readings = [_instrument_values(e) for e in entries.values()]
        for col, (title, level) in enumerate(INSTRUMENT_PANELS):
            ax = axes[row, col]
            lines: dict[str, list] = {}
            for n, reading in zip(ns, readings):
                for label, value, interval in reading[col]:
                    lines.setdefault(label, []).append((n, value, interval))
            for label, points in lines.items():
                x = np.array([p[0] for p in points], float)
                y = np.array([np.nan if p[1] is None else p[1] for p in points], float)
                low = np.array([y[i] if p[2] is None else p[2][0] for i, p in enumerate(points)])
                high = np.array([y[i] if p[2] is None else p[2][1] for i, p in enumerate(points)])
                ax.errorbar(
                    x,
                    y,
                    yerr=np.nan_to_num([y - low, high - y]),
                    fmt="o-",
                    ms=3,
                    capsize=2,
                    label=label or None,
                )
            if not lines:  # e.g. C_T undecidable on every set: say so rather than draw empty axes
                ax.text(
                    0.5,
                    0.5,
                    "undefined on every set\n(see the table)",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=8,
                    color="0.3",
                )
                ax.set_yticks([])
            elif level is not None:
                ax.axhline(level, color="0.4", ls="--", lw=0.8)
            if any(label for label in lines):
                ax.legend(fontsize=6)
            ax.set_xticks(ns)
            ax.grid(alpha=0.3)
            ax.set_xlabel(f"set {family}.n", fontsize=8)
            if row == 0:
                ax.set_title(title, fontsize=8)
    return save_figure(fig, out / "fig-instruments.png")


def comparison(first: dict, second: dict, labels: tuple[str, str], out: Path) -> Path:
    """Fig. 4 of two sweeps: output tendency against n per family, each seed a dot and the seeds'
    mean a line, the first sweep in blue and the second in orange (``svrlens compare --figure``;
    results as :func:`svrlens.experiments.compare.load_results` returns them)."""
    from svrlens.experiments.compare import seed_values

    families = sorted((set(by_family(first["datasets"])) | set(by_family(second["datasets"]))) - {""})
    fig, axes = subplots(1, max(1, len(families)), figsize=(5.2 * max(1, len(families)), 4), squeeze=False)
    for ax, family in zip(axes[0], families):
        for shift, (results, label, colour) in enumerate(
            ((first, labels[0], "tab:blue"), (second, labels[1], "tab:orange"))
        ):
            entries = list(by_family(results["datasets"]).get(family, {}).items())
            ns = [e["n"] for _, e in entries]
            seeds = [[v for v in seed_values(e, "output_tendency") if v is not None] for _, e in entries]
            for n, values in zip(ns, seeds):
                ax.scatter([n + 0.08 * (2 * shift - 1)] * len(values), values, s=14, color=colour, alpha=0.6)
            means = [e["output_tendency"]["score"] for _, e in entries]
            count = len(seeds[0]) if seeds else 0
            ax.plot(ns, means, color=colour, marker="o", label=f"{label} (mean of {count} seeds)")
        ax.set(title=f"family {family}", xlabel="n (set)", ylabel="output tendency (mean silhouette)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, out)
