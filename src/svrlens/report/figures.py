"""The report's figures, drawn from ``results.json`` and the run directories (never live objects)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.data.figures import coverage_figure_of_weights, pyplot, save_figure
from svrlens.evaluation.figures import tendency_figure

MATRIX_COLUMNS = (
    ("train_images", "training images (ℓ1)"),
    ("train_shapes", "training shapes (Chamfer)"),
    ("predictions", "predictions (Chamfer)"),
)


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
    plt = pyplot()
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
        fig, axes = plt.subplots(len(rows), 3, figsize=(6.6, 2.2 * len(rows)), squeeze=False)
        for r, (name, path) in enumerate(rows):
            with np.load(path, allow_pickle=False) as matrices:
                for c, (key, title) in enumerate(MATRIX_COLUMNS):
                    ax = axes[r, c]
                    ax.imshow(matrices[key], cmap="RdBu_r", interpolation="nearest")
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
    """Fig. 6: Chamfer and F-score of the model and of Oracle-NN per data set, with intervals."""
    plt = pyplot()
    names = list(datasets)
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(max(7.0, 0.55 * len(names) + 3), 3.4))
    for offset, key, label in ((-0.12, "model", "model"), (0.12, "oracle_nn", "Oracle-NN")):
        chamfer = np.array([datasets[n][key]["chamfer"] for n in names])
        low, high = np.array([datasets[n][key]["chamfer_interval"] for n in names]).T
        axes[0].errorbar(
            x + offset, chamfer, yerr=[chamfer - low, high - chamfer], fmt="o", capsize=2, label=label
        )
        fscore = np.array([datasets[n][key]["fscore"][threshold_index] for n in names])
        low, high = np.array([datasets[n][key]["fscore_interval"][threshold_index] for n in names]).T
        axes[1].errorbar(
            x + offset, fscore, yerr=[fscore - low, high - fscore], fmt="o", capsize=2, label=label
        )
    axes[0].set_title("Chamfer (eq. 2), lower is better", fontsize=9)
    axes[1].set_title(f"F-score at {threshold_label}, higher is better", fontsize=9)
    for ax in axes:
        ax.set_xticks(x, names, rotation=60, fontsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return save_figure(fig, out / "fig6-scores.png")
