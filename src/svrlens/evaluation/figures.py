"""Figures of a diagnosis (PNG + SVG, written atomically, no global matplotlib backend):
the verdict's response curve, input vs output tendency (fig. 4), distance matrices (fig. 5),
per-sample scores of the model and the baselines (fig. 6), t-SNE of codewords (fig. 7) and
qualitative examples (fig. 8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.data.figures import CLOUD_LEGEND, draw_cloud, projected_extent
from svrlens.plotting import save_figure, subplots

METHOD_LABELS = {
    "model": "model",
    "oracle_nn": "Oracle-NN",
    "retrieval": "retrieval",
    "clustering": "clustering",
}


def tendency_figure(points: dict, out, *, rows: dict | None = None) -> Path:
    """Input vs output clustering tendency (paper fig. 4): training images (left) and training
    shapes (right) against the predictions, one point per data set, with bootstrap intervals.

    ``points`` maps a data set's name to its diagnosis (the keys ``image_tendency``,
    ``shape_tendency`` and ``output_tendency``, each with ``score`` and ``interval``). With
    ``rows`` (row title → such a mapping; ``points`` is then ignored), one row per family, as
    the paper's two rows for 1.1.n and 1.2.n.
    """
    rows = rows or {"": points}
    fig, axes = subplots(len(rows), 2, figsize=(8, 3.6 * len(rows)), sharey=True, squeeze=False)
    for row, (row_title, row_points) in zip(axes, rows.items()):
        for ax, key, label in (
            (row[0], "image_tendency", "training images (ℓ1)"),
            (row[1], "shape_tendency", "training shapes (Chamfer)"),
        ):
            for name, result in row_points.items():
                x, y = result[key], result["output_tendency"]
                ax.errorbar(x["score"], y["score"], xerr=_error(x), yerr=_error(y), fmt="o", capsize=2)
                ax.annotate(
                    name, (x["score"], y["score"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
                )
            if len(row_points) == 1:  # one data set: mark where its "clustered" calls begin
                (result,) = row_points.values()
                if "null" in result.get(key, {}):
                    ax.axvline(result[key]["null"]["null_quantile"], color="0.5", ls="--", lw=0.8)
                    ax.text(
                        result[key]["null"]["null_quantile"], 0.02, " clustered →", fontsize=7, color="0.4"
                    )
            ax.set_xlabel(f"tendency of {label}")
            ax.set_xlim(-0.05, 1.05)
            ax.set_ylim(-0.05, 1.05)
            ax.grid(alpha=0.3)
        row[0].set_ylabel("tendency of the predictions" + (f"\n{row_title}" if row_title else ""))
    return save_figure(fig, out)


def _error(entry: dict):
    """Error-bar extents from an entry's ``interval`` (None: no bar)."""
    if not entry.get("interval"):
        return None
    low, high = entry["interval"]
    return [[entry["score"] - low], [high - entry["score"]]]


def distance_matrices_figure(matrices: dict, out, *, order=None, floor: float | None = None) -> Path:
    """Side-by-side distance matrices (blue = small, red = large), each with its colour bar,
    rows/columns in ``order`` (title → index array, or None). ``floor`` marks the sampling floor
    on the colour bars of Chamfer matrices between outputs."""
    fig, axes = subplots(1, len(matrices), figsize=(3.9 * len(matrices), 3.4), squeeze=False)
    for ax, (title, matrix) in zip(axes[0], matrices.items()):
        ordering = (order or {}).get(title)
        index = np.arange(len(matrix)) if ordering is None or len(ordering) != len(matrix) else ordering
        image = ax.imshow(matrix[np.ix_(index, index)], cmap="RdBu_r", interpolation="nearest")
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        bar.ax.tick_params(labelsize=7)
        if floor is not None and "predictions" in title:
            bar.ax.axhline(floor, color="k", lw=1.2)
            bar.ax.text(1.6, floor, " floor", fontsize=6, va="center", transform=bar.ax.get_yaxis_transform())
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return save_figure(fig, out)


def scores_figure(metrics: dict, out, *, threshold_label: str, floor: float | None = None) -> Path:
    """Per-sample Chamfer (against the dense truth) and F-score of the model and each baseline
    (box plots); the dashed line is the sampling floor, what a perfect output scores."""
    names = list(metrics)
    labels = [METHOD_LABELS.get(n, n) for n in names]
    fig, axes = subplots(1, 2, figsize=(9, 3.4))
    axes[0].boxplot([metrics[n]["chamfer"] for n in names], tick_labels=labels, showfliers=False)
    if floor is not None:
        axes[0].axhline(floor, color="0.4", ls="--", lw=1)
        axes[0].text(0.55, floor, "sampling floor", fontsize=7, color="0.3", va="bottom")
    axes[0].set_title("Chamfer (eq. 2) vs the dense truth, lower is better", fontsize=9)
    axes[1].boxplot([metrics[n]["fscore"][:, 0] for n in names], tick_labels=labels, showfliers=False)
    axes[1].set_title(f"F-score at {threshold_label}, higher is better", fontsize=9)
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(alpha=0.3, axis="y")
    return save_figure(fig, out)


def response_figure(truth, predicted, groups, statistic: dict, out, *, verdict: str, form: str) -> Path:
    """The verdict's evidence: where each prediction lands (ŷ) against where its truth is (y),
    coloured by the training-shape cluster it falls into. Flat within a colour is Definition 1
    (recognition, gain 0); along the diagonal is Definition 2 (reconstruction, gain 1). With
    several coordinates, both are projected on the truths' first principal direction."""
    truth, predicted = np.asarray(truth, np.float64), np.asarray(predicted, np.float64)
    centre = truth.mean(0)
    _, _, vt = np.linalg.svd(truth - centre, full_matrices=False)
    axis = vt[0] * (1 if vt[0].sum() >= 0 else -1)
    x, y = (truth - centre) @ axis, (predicted - centre) @ axis
    fig, ax = subplots(figsize=(4.6, 4.2))
    ax.scatter(x, y, c=np.asarray(groups), cmap="tab10", s=10, vmin=0, vmax=9)
    span = np.array([min(x.min(), y.min()), max(x.max(), y.max())])
    ax.plot(span, span, color="0.5", ls="--", lw=0.8, label="Definition 2: follows the input")
    ax.set_xlabel("truth's position" + (" (morph weight)" if form == "morph" else " (MDS of the truths)"))
    ax.set_ylabel("prediction's position (nearest truth)")
    low, high = statistic["interval"]
    ax.set_title(
        f"{verdict}: within-cluster gain {statistic['value']:.2f} [{low:.2f}, {high:.2f}]", fontsize=9
    )
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    return save_figure(fig, out)


def tsne_figure(embedding: np.ndarray, labels, out, *, title: str) -> Path:
    fig, ax = subplots(figsize=(4.2, 4.0))
    ax.scatter(*embedding.T, c=None if labels is None else labels, cmap="tab10", s=8)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return save_figure(fig, out)


def qualitative_figure(images, columns: dict, out, *, count: int = 6, seed: int = 0) -> Path:
    """Rows of examples: the input image, then one point cloud per entry of ``columns``, drawn in
    the images' isometric view (colour: depth along the view, yellow = nearer)."""
    count = min(count, len(images))
    rows = np.sort(np.random.default_rng(seed).choice(len(images), count, replace=False))
    fig, axes = subplots(
        count, 1 + len(columns), figsize=(1.7 * (1 + len(columns)), 1.7 * count), squeeze=False
    )
    extent = projected_extent(np.asarray(c)[rows] for c in columns.values())
    for r, index in enumerate(rows):
        axes[r, 0].imshow(images[index])
        for c, (name, clouds) in enumerate(columns.items(), start=1):
            draw_cloud(axes[r, c], clouds[index], extent)
            if r == 0:
                axes[r, c].set_title(name, fontsize=9)
        if r == 0:
            axes[r, 0].set_title("image", fontsize=9)
        for ax in axes[r]:
            ax.set_aspect("equal")
            ax.axis("off")
    fig.text(0.5, 0.0, CLOUD_LEGEND, ha="center", va="bottom", fontsize=8)
    return save_figure(fig, out)


def _order(part):
    """Samples ordered by morph weights (synthetic data), else by label, else as stored."""
    if part.morph is not None:
        return np.lexsort(np.asarray(part.morph).T[::-1]), "ordered by the morph weight"
    if part.labels is not None:
        return np.argsort(np.asarray(part.labels), kind="stable"), "ordered by label"
    return None, "in stored order"


def diagnosis_figures(
    result: dict, train, test, matrices: dict, clouds: dict, metrics: dict, out, *, save_matrices=False
):
    """Every figure of one diagnosis under ``out`` (PNG + SVG); returns the PNG names.

    ``matrices`` holds ``train_images``, ``train_shapes`` and ``predictions``; ``clouds`` the
    (centred) ``truth``, ``model`` and ``oracle_nn`` outputs; ``metrics`` the per-sample scores
    per method. With ``save_matrices``, ``matrices.npz`` (in figure order) is written beside ``out``.
    """
    from svrlens.io import atomic_write

    out = Path(out)
    train_order, caption = _order(train)
    test_order, _ = _order(test)
    keys = ("train_images", "train_shapes", "predictions")
    titles = ("training images (ℓ1)", "training shapes (Chamfer excess)", "test predictions (Chamfer)")
    shown = {title: matrices[key] for key, title in zip(keys, titles)}
    order = dict(zip(titles, (train_order, train_order, test_order)))
    floor = result["sampling"]["chamfer"]
    distance_matrices_figure(shown, out / "fig5-matrices.png", order=order, floor=floor)
    if save_matrices:
        ordered = {
            k: (m if o is None else m[np.ix_(o, o)]).astype(np.float32)
            for k, m, o in zip(keys, shown.values(), order.values())
        }
        atomic_write(out.parent / "matrices.npz", lambda handle: np.savez_compressed(handle, **ordered))
    conventions = result["conventions"]
    label = f"{conventions['thresholds'][0]:g}" + (
        " of the box side" if conventions["thresholds_relative"] else ""
    )
    scores_figure(metrics, out / "fig6-scores.png", threshold_label=label, floor=floor)
    tendency_figure({"this data": result}, out / "fig4-tendencies.png")
    statistic = result["statistic"]
    positions = result["positions"]
    response_figure(
        positions["truth"],
        positions["predicted"],
        result["groups"],
        statistic,
        out / "verdict.png",
        verdict=result["verdict"],
        form=statistic["form"],
    )
    columns = {
        "prediction": clouds["model"],
        "ground truth": clouds["truth"],
        "Oracle-NN": clouds["oracle_nn"],
    }
    qualitative_figure(
        np.asarray(test.images), columns, out / "fig8-qualitative.png", seed=result["provenance"]["seed"]
    )
    if "codewords" in result:
        labels = None if test.labels is None else np.asarray(test.labels)
        title = "t-SNE of test codewords" + ("" if labels is None else " (colour: label)")
        tsne_figure(np.asarray(result["codewords"]["tsne"]), labels, out / "fig7-tsne.png", title=title)
    result["captions"] = {"fig5-matrices": f"distance matrices, samples {caption}"}
    return sorted(p.name for p in out.glob("*.png"))


def calibration_figure(rows: list[dict], out) -> Path:
    """The statistic on idealised predictors: left, against their quality (Chamfer of the
    output against the dense truth), coloured by definition; right, the interpolators' gain against
    their sharpness k (k = 1: the identity; large k: a step). Dashed: the midpoint ½."""
    colours = {
        "recognition": "#b3261e",
        "reconstruction": "#1b6e2f",
        "collapse": "#555",
        "interpolator": "#1f5fa8",
    }
    fig, axes = subplots(1, 2, figsize=(10, 3.8))
    variants = {"noisy": "s", "shape-noise": "D", "fresh": "^", "jitter": "X"}  # else "o" (exact)

    def marker(name: str) -> str:  # the most specific variant named (shape-noise before noisy)
        found = [v for v in variants if v in name]
        return variants[max(found, key=len)] if found else "o"

    for row in rows:
        low, high = row["interval"]
        axes[0].errorbar(
            row["chamfer"],
            row["value"],
            yerr=[[row["value"] - low], [high - row["value"]]],
            fmt=marker(row["name"]),
            color=colours[row["kind"]],
            capsize=2,
            ms=5,
            alpha=0.85,
        )
    for kind, colour in colours.items():
        axes[0].plot([], [], "o", color=colour, label=kind)
    for variant, symbol in (("exact / interpolator", "o"),) + tuple(variants.items()):
        axes[0].plot([], [], symbol, color="0.4", mfc="none", label=variant)
    axes[0].set_xlabel("Chamfer (eq. 2) against the dense truth")
    axes[0].set_ylabel("within-cluster gain")
    axes[0].legend(fontsize=7, ncols=2, loc="center right")
    sweep = sorted((r for r in rows if r["kind"] == "interpolator"), key=lambda r: r["parameter"])
    if sweep:
        k = np.array([r["parameter"] for r in sweep])
        values = np.array([r["value"] for r in sweep])
        bounds = np.array([r["interval"] for r in sweep])
        axes[1].errorbar(
            k,
            values,
            yerr=[values - bounds[:, 0], bounds[:, 1] - values],
            fmt="o-",
            color=colours["interpolator"],
            capsize=2,
        )
        axes[1].set_xscale("log", base=2)
    axes[1].set_xlabel("interpolator sharpness k (w' ∝ w^k)")
    axes[1].set_title("from the identity (reconstruction) to a step (recognition)", fontsize=9)
    for ax in axes:
        for level in (0.0, 1.0):
            ax.axhline(level, color="0.7", lw=0.8)
        ax.axhline(0.5, color="0.3", ls="--", lw=0.8)
        ax.grid(alpha=0.3)
    return save_figure(fig, out)
