"""``svrlens demo``: the measuring instrument of the paper on a small generated example.

Two training sets of cube↔sphere shapes are drawn: one whose shapes sit at the two ends of the
morph (cube or sphere, as the targets of the paper's subsampled set 1.2), one whose morph
parameter t covers [0, 1] uniformly (as 1.1.7). For each, the all-pairs Chamfer matrix (eq. 2)
is computed and its clustering tendency (eq. 10) measured; the clustered set scores far higher.

Shapes come from :class:`svrlens.data.MorphFamily` (the synthetic base dataset's generator), with
its default coupled point sampling, so the Chamfer matrix measures geometry, not sampling noise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from svrlens.data import MorphFamily, SynthConfig
from svrlens.errors import InputError
from svrlens.geometry import pairwise_chamfer
from svrlens.tendency import clustering_tendency


@dataclass
class DemoRow:
    name: str
    n_shapes: int
    n_clusters: int
    tendency: float
    interval: tuple[float, float]
    seconds: float
    pairs_per_second: float


def run_demo(
    n_shapes: int = 200, n_points: int = 1024, seed: int = 0, progress: bool = True
) -> list[DemoRow]:
    """Measure the clustering tendency of a clustered and a continuous set of shapes.

    Returns one :class:`DemoRow` per set with the tendency (mean silhouette over the Chamfer
    matrix, clusters from adaptive affinity propagation, bootstrap interval) and the time of
    the Chamfer matrix.
    """
    if not (10 <= n_shapes <= 20_000 and 1 <= n_points <= 100_000):
        raise InputError(
            f"demo: expected --shapes ≥ 10 (at most 20,000) and --points in 1…100,000, "
            f"found {n_shapes} and {n_points}"
        )
    rng = np.random.default_rng(seed)
    sets = {
        "cube or sphere (clustered)": (np.arange(n_shapes) % 2).astype(np.float64),
        "t uniform in [0, 1]": np.sort(rng.uniform(0, 1, n_shapes)),
    }
    family = MorphFamily(SynthConfig(n_points=n_points, image_size=32, seed=seed))
    rows = []
    for name, t in sets.items():
        clouds = family.clouds(np.stack([1 - t, t], 1), np.arange(len(t)))
        start = time.perf_counter()
        distances = pairwise_chamfer(clouds, progress=progress)
        seconds = time.perf_counter() - start
        tendency = clustering_tendency(distances, random_state=seed)
        rows.append(
            DemoRow(
                name,
                n_shapes,
                tendency.n_clusters,
                tendency.score,
                tendency.interval,
                seconds,
                n_shapes * (n_shapes - 1) / 2 / seconds,
            )
        )
    return rows


def format_demo_table(rows: list[DemoRow]) -> str:
    header = (
        f"{'training shapes':28s} {'N':>5s} {'K':>3s} {'tendency':>9s} "
        f"{'95% interval':>16s} {'Chamfer matrix':>15s} {'pairs/s':>9s}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        interval = f"[{row.interval[0]:.3f}, {row.interval[1]:.3f}]"
        lines.append(
            f"{row.name:28s} {row.n_shapes:5d} {row.n_clusters:3d} {row.tendency:9.3f} "
            f"{interval:>16s} {row.seconds:14.2f}s {row.pairs_per_second:9.0f}"
        )
    lines.append(
        "tendency: mean silhouette (eq. 10) over the Chamfer matrix, "
        "clusters from adaptive affinity propagation"
    )
    return "\n".join(lines)
