"""Figures of datasets: coverage of the morph parameter (paper fig. 3) and a contact sheet."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.plotting import save_figure, subplots

from .dataset import Dataset
from .render import SCREEN_RIGHT, SCREEN_UP, VIEW


def coverage_figure(sets: dict, out, *, title: str = "") -> Path:
    """Training-set coverage of the morph, one column per set (like the paper's fig. 3).

    ``sets`` maps a name ("1.1.1", …) to a :class:`Dataset`; see :func:`coverage_figure_of_weights`.
    """
    weights = {}
    for name, data in sets.items():
        train = data.subset("train")
        weights[name] = (np.asarray(train.morph), None if train.labels is None else np.asarray(train.labels))
    return coverage_figure_of_weights(weights, out, title=title)


def _colours(labels) -> dict:
    """Scatter colours by cluster label, or one colour when there are none."""
    return {"color": "tab:blue"} if labels is None else {"c": labels, "cmap": "tab10", "vmin": 0, "vmax": 9}


def coverage_figure_of_weights(sets: dict, out, *, title: str = "") -> Path:
    """Coverage from ``sets``: name → (morph weights (N, K), cluster labels (N,) or None).

    Two base shapes: the t of every training image against the set. Three: each set's weights
    in the simplex (cube, pyramid, sphere at the corners). Colour is the training cluster.
    """
    names = list(sets)
    k = np.asarray(next(iter(sets.values()))[0]).shape[1]
    if k == 2:
        fig, ax = subplots(figsize=(1.0 + 0.8 * len(names), 4.0))
        for x, name in enumerate(names):
            morph, labels = sets[name]
            ax.scatter(
                np.full(len(morph), x) + np.linspace(-0.12, 0.12, len(morph)),
                np.asarray(morph)[:, 1],
                s=10,
                **_colours(labels),
            )
        ax.set_xticks(range(len(names)), names)
        ax.set_ylabel("t  (0 = cube, 1 = sphere)")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(axis="y", alpha=0.3)
    else:
        fig, axes = subplots(1, len(names), figsize=(2.0 * len(names), 2.2))
        corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
        for ax, name in zip(np.atleast_1d(axes), names):
            morph, labels = sets[name]
            xy = np.asarray(morph) @ corners
            ax.fill(*corners.T, color="0.93")
            ax.scatter(*xy.T, s=6, **_colours(labels))
            ax.set_title(name, fontsize=9)
            ax.set_aspect("equal")
            ax.axis("off")
    fig.suptitle(title or "training-set coverage")
    return save_figure(fig, out)


# Said under every figure that draws clouds with draw_cloud.
CLOUD_LEGEND = "clouds seen from the images' isometric view; point colour: depth along it (yellow nearer)"


def projected_extent(clouds, margin: float = 1.05) -> float:
    """Half-width of a square panel holding every cloud (..., P, 3) as :func:`draw_cloud` projects
    it: a cube's corners reach further on screen than along an axis, so the raw extent clips."""
    screen = np.stack([SCREEN_RIGHT, SCREEN_UP], 1)
    return margin * max(float(np.abs(np.asarray(c, np.float64) @ screen).max()) for c in clouds)


def draw_cloud(ax, points, extent: float, size: float = 0.6) -> None:
    """Scatter a cloud (P, 3) in the images' isometric view, far points first, coloured by depth."""
    points = np.asarray(points, np.float64)
    depth = points @ VIEW
    order = np.argsort(depth)
    ax.scatter(
        (points @ SCREEN_RIGHT)[order], (points @ SCREEN_UP)[order], c=depth[order], s=size, cmap="viridis"
    )
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)


def preview_figure(dataset: Dataset, out, *, count: int = 8, split: str = "train", seed: int = 0) -> Path:
    """A contact sheet: ``count`` images of ``split`` over their point clouds (isometric view)."""
    part = dataset.subset(split) if split in dataset.splits else dataset
    count = min(count, len(part))
    if count == 0:
        raise ValueError(f"split {split!r}: expected at least one sample, found none")
    order = np.sort(np.random.default_rng(seed).choice(len(part), count, replace=False))
    fig, axes = subplots(2, count, figsize=(1.6 * count, 3.4), squeeze=False)
    extent = projected_extent([part.points[i] for i in order])
    for column, index in enumerate(order):
        axes[0, column].imshow(part.images[index])
        draw_cloud(axes[1, column], part.points[index], extent, size=1)
        label = f"#{index}" if part.morph is None else "w=" + ",".join(f"{w:.2f}" for w in part.morph[index])
        axes[0, column].set_title(label, fontsize=7)
        for row in range(2):
            axes[row, column].set_aspect("equal")
            axes[row, column].axis("off")
    fig.suptitle(
        f"{dataset.path.name if dataset.path else 'dataset'}: {split} images and point clouds", fontsize=10
    )
    fig.text(0.5, 0.0, CLOUD_LEGEND, ha="center", va="bottom", fontsize=7)
    return save_figure(fig, out)
