"""Time of a whole diagnosis (200 test × 700 train, 1024 points + 4096-point dense references)
against the route before issue 13, measured in the same run.

    python benchmarks/bench_evaluation.py           # base #1: 700 train / 200 test
    python benchmarks/bench_evaluation.py --quick   # smoke mode (the test suite runs it)
    python benchmarks/bench_evaluation.py --cache-only   # only a sweep's two diagnoses, 100 / 200

svrlens: ``diagnose`` end to end (dense references and floors, every excess matrix, three
tendencies with adaptive AP and the null-reference calls, baselines, paired comparisons,
memorisation, the within-cluster gain in both forms with bootstraps and permutations; no
figures). Baseline ("the route before"): the Chamfer matrices the earlier diagnosis computed —
training shapes, predictions, test × train and predictions × train, all 1024 vs 1024 points —
and the three adaptive-AP tendencies. The ratio is the price of the valid instrument.

Then a sweep's diagnoses (a 1.1.n set's size: 100 train / 200 test), each run with its own
predictions: the first with an empty matrix cache (``svrlens.experiments.runs.shared_chamfer``),
the second with the cache the first filled — its data matrices (training shapes, test truths
against the dense test clouds, training × test) are read back, only the predictions' are computed.
Then two more with the cache filled and a run's figures drawn: PNG + SVG (the baseline, what
``svrlens diagnose`` writes) against PNG only (what a sweep's runs write, ``plotting.png_only``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import tempfile
import time
import warnings

import numpy as np

from svrlens._machine import cpu_model
from svrlens.data import SynthConfig, generate
from svrlens.evaluation import EvaluationConfig, diagnose
from svrlens.experiments.runs import shared_chamfer
from svrlens.geometry import pairwise_chamfer, pairwise_l1
from svrlens.plotting import png_only, save_figure, subplots
from svrlens.tendency import clustering_tendency


def route_before(train, test, predictions) -> float:
    """Seconds of the earlier diagnosis's matrices and tendencies (coupled 1024-point clouds)."""
    start = time.perf_counter()
    train_shapes = pairwise_chamfer(np.asarray(train.points))
    outputs = pairwise_chamfer(predictions)
    pairwise_chamfer(np.asarray(test.points), np.asarray(train.points))
    pairwise_chamfer(predictions, np.asarray(train.points))
    for matrix in (pairwise_l1(np.asarray(train.images)), train_shapes, outputs):
        clustering_tendency(matrix)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--cache-only", action="store_true", help="only the sweep-cache and figures measurements"
    )
    args = parser.parse_args()
    n_shapes, points, dense, size = (100, 256, 1024, 32) if args.quick else (1000, 1024, 4096, 64)
    config = SynthConfig(n_shapes=n_shapes, n_points=points, dense_points=dense, image_size=size)
    data = generate(config, progress=False)
    train, test = data.subset("train"), data.subset("test")
    rng = np.random.default_rng(0)
    predictions = np.asarray(test.points) + rng.normal(0, 0.01, test.points.shape).astype(np.float32)
    warnings.simplefilter("ignore")
    pairwise_chamfer(np.asarray(train.points[:3]))  # compile the kernels outside the timing
    clustering_tendency(pairwise_chamfer(np.asarray(train.points[:10])))

    print(f"CPU: {cpu_model()}")
    print(
        f"data: {len(train)} train / {len(test)} test clouds of {points} points, dense {dense}, "
        f"{size} px images"
    )
    few = dataclasses.replace(train, splits={"few": np.arange(min(100, len(train)))}).subset("few")
    if args.cache_only:
        sweep_cache(few, test, predictions, rng)
        return
    before = route_before(train, test, predictions)
    start = time.perf_counter()
    result = diagnose(train, test, predictions, config=EvaluationConfig())
    ours = time.perf_counter() - start
    print(
        f"svrlens diagnose (valid instrument, everything): {ours:8.1f} s   verdict {result['verdict']}, "
        f"gain {result['statistic']['value']:.2f}, sampling floor {result['sampling_floor']:.3f}"
    )
    print(f"baseline: the route before issue 13 (1024 vs 1024 matrices + tendencies): {before:8.1f} s")
    print(f"ratio (diagnose / baseline): {ours / before:.1f}x")
    sweep_cache(few, test, predictions, rng)


def sweep_cache(train, test, predictions, rng) -> None:
    """Two runs' diagnoses on the same data: an empty matrix cache, then the one it filled."""
    times = []
    with tempfile.TemporaryDirectory() as out:
        cached = shared_chamfer(out)
        for run in ("first run (empty cache): the baseline", "second run (data matrices cached)"):
            outputs = predictions + rng.normal(0, 0.005, predictions.shape).astype(np.float32)
            start = time.perf_counter()
            diagnose(train, test, outputs, config=EvaluationConfig(), data_chamfer_matrix=cached)
            times.append(time.perf_counter() - start)
            print(f"sweep, {len(train)} train / {len(test)} test, {run}: {times[-1]:8.1f} s")
        print(f"ratio (second / first): {times[1] / times[0]:.2f}x")
        drawn = []
        with tempfile.TemporaryDirectory() as warm:  # matplotlib's imports and fonts, outside the timing
            figure, axes = subplots()
            axes.plot([0, 1])
            save_figure(figure, f"{warm}/warm.png")
        for run, scope in (
            ("figures PNG + SVG: the baseline", contextlib.nullcontext),
            ("PNG only", png_only),
        ):
            with tempfile.TemporaryDirectory() as figures, scope():
                start = time.perf_counter()
                config = EvaluationConfig()
                diagnose(
                    train, test, predictions, config=config, figures_dir=figures, data_chamfer_matrix=cached
                )
                drawn.append(time.perf_counter() - start)
            print(f"sweep, cache filled, {run}: {drawn[-1]:8.1f} s")
        print(f"ratio (PNG only / PNG + SVG): {drawn[1] / drawn[0]:.2f}x")


if __name__ == "__main__":
    main()
