"""Figures of a diagnosis (PNG + SVG): distance matrices (fig. 5), model vs baselines (fig. 6),
t-SNE of codewords (fig. 7) and qualitative examples (fig. 8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.data.figures import pyplot, save_figure
from svrlens.data.render import SCREEN_RIGHT, SCREEN_UP, VIEW


def tendency_figure(points: dict, out, *, rows: dict | None = None) -> Path:
    """Input vs output clustering tendency (paper fig. 4): training images (left) and training
    shapes (right) against the predictions, one point per data set, with bootstrap intervals.

    ``points`` maps a data set's name to its diagnosis (the keys ``image_tendency``,
    ``shape_tendency`` and ``output_tendency``, each with ``score`` and ``interval``). With
    ``rows`` (row title → such a mapping; ``points`` is then ignored), one row per family, as
    the paper's two rows for 1.1.n and 1.2.n.
    """
    plt = pyplot()
    rows = rows or {"": points}
    fig, axes = plt.subplots(len(rows), 2, figsize=(8, 3.6 * len(rows)), sharey=True, squeeze=False)
    for row, (row_title, row_points) in zip(axes, rows.items()):
        for ax, key, label in (
            (row[0], "image_tendency", "training images (ℓ1)"),
            (row[1], "shape_tendency", "training shapes (Chamfer)"),
        ):
            for name, result in row_points.items():
                x, y = result[key], result["output_tendency"]
                ax.errorbar(
                    x["score"],
                    y["score"],
                    xerr=[[x["score"] - x["interval"][0]], [x["interval"][1] - x["score"]]],
                    yerr=[[y["score"] - y["interval"][0]], [y["interval"][1] - y["score"]]],
                    fmt="o",
                    capsize=2,
                )
                ax.annotate(
                    name, (x["score"], y["score"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
                )
            ax.set_xlabel(f"tendency of {label}")
            ax.set_xlim(-0.05, 1.05)
            ax.set_ylim(-0.05, 1.05)
            ax.grid(alpha=0.3)
        row[0].set_ylabel("tendency of the predictions" + (f"\n{row_title}" if row_title else ""))
    return save_figure(fig, out)


def distance_matrices_figure(matrices: dict, out, *, order=None) -> Path:
    """Side-by-side distance matrices (blue = small, red = large), rows/columns in ``order``."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.4 * len(matrices), 3.4), squeeze=False)
    for ax, (title, matrix) in zip(axes[0], matrices.items()):
        ordering = (order or {}).get(title)
        index = np.arange(len(matrix)) if ordering is None or len(ordering) != len(matrix) else ordering
        ax.imshow(matrix[np.ix_(index, index)], cmap="RdBu_r", interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return save_figure(fig, out)


def scores_figure(per_sample: dict, out, *, threshold_label: str) -> Path:
    """Per-sample Chamfer and F-score of the model and each baseline (box plots)."""
    plt = pyplot()
    names = list(per_sample)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    axes[0].boxplot([per_sample[n]["chamfer"] for n in names], tick_labels=names, showfliers=False)
    axes[0].set_title("Chamfer (eq. 2), lower is better", fontsize=9)
    axes[1].boxplot([per_sample[n]["fscore"][:, 0] for n in names], tick_labels=names, showfliers=False)
    axes[1].set_title(f"F-score at {threshold_label}, higher is better", fontsize=9)
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
    return save_figure(fig, out)


def tsne_figure(embedding: np.ndarray, labels, out, *, title: str) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.scatter(*embedding.T, c=None if labels is None else labels, cmap="tab10", s=8)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return save_figure(fig, out)


def _cloud(ax, points, extent):
    points = np.asarray(points, np.float64)
    depth = points @ VIEW
    order = np.argsort(depth)
    ax.scatter(
        (points @ SCREEN_RIGHT)[order], (points @ SCREEN_UP)[order], c=depth[order], s=0.6, cmap="viridis"
    )
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)


def qualitative_figure(images, columns: dict, out, *, count: int = 6, seed: int = 0) -> Path:
    """Rows of examples: the input image, then one point cloud per entry of ``columns``."""
    plt = pyplot()
    count = min(count, len(images))
    rows = np.sort(np.random.default_rng(seed).choice(len(images), count, replace=False))
    fig, axes = plt.subplots(
        count, 1 + len(columns), figsize=(1.7 * (1 + len(columns)), 1.7 * count), squeeze=False
    )
    extent = 1.1 * max(float(np.abs(np.asarray(c)[rows]).max()) for c in columns.values())
    for r, index in enumerate(rows):
        axes[r, 0].imshow(images[index])
        for c, (name, clouds) in enumerate(columns.items(), start=1):
            _cloud(axes[r, c], clouds[index], extent)
            if r == 0:
                axes[r, c].set_title(name, fontsize=9)
        if r == 0:
            axes[r, 0].set_title("image", fontsize=9)
        for ax in axes[r]:
            ax.set_aspect("equal")
            ax.axis("off")
    return save_figure(fig, out)
