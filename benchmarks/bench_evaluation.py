"""Time of a whole diagnosis (200 test × 700 train clouds of 1024 points) against a plain baseline.

    python benchmarks/bench_evaluation.py           # base #1: 700 train / 200 test, 1024 points
    python benchmarks/bench_evaluation.py --quick   # smoke mode (the test suite runs it)

svrlens: ``diagnose`` end to end (three tendencies with adaptive AP, Oracle-NN, retrieval and
clustering baselines, comparisons, memorisation; no figures). The plain baseline computes the
same Chamfer matrices with a per-pair ``torch.cdist`` loop (timed on a sample of pairs and
extrapolated to all of them) and clusters them with scikit-learn's AffinityPropagation (timed
in full).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.cluster import AffinityPropagation as SkAffinityPropagation
from sklearn.exceptions import ConvergenceWarning

from svrlens.data import SynthConfig, generate
from svrlens.evaluation import diagnose
from svrlens.geometry import pairwise_chamfer


def cdist_rate(clouds: torch.Tensor, n_pairs: int, rng) -> float:
    """Pairs per second of the per-pair cdist Chamfer loop."""
    pairs = rng.integers(0, len(clouds), (n_pairs, 2))
    start = time.perf_counter()
    for i, j in pairs:
        d = torch.cdist(clouds[i], clouds[j])
        (d.min(1).values.mean() + d.min(0).values.mean()).item()
    return n_pairs / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_shapes, points, size = (100, 256, 32) if args.quick else (1000, 1024, 64)
    data = generate(SynthConfig(n_shapes=n_shapes, n_points=points, image_size=size), progress=False)
    train, test = data.subset("train"), data.subset("test")
    rng = np.random.default_rng(0)
    predictions = test.points + rng.normal(0, 0.01, test.points.shape).astype(np.float32)
    warnings.simplefilter("ignore", ConvergenceWarning)
    pairwise_chamfer(train.points[:3])  # load the kernels outside the timing

    start = time.perf_counter()
    result = diagnose(train.images, train.points, test.images, test.points, predictions)
    ours = time.perf_counter() - start

    n_train, n_test = len(train), len(test)
    n_pairs = (
        n_train * (n_train - 1) // 2 + n_test * (n_test - 1) // 2 + 2 * n_test * n_train
    )  # shapes, outputs, oracle + memorisation
    rate = cdist_rate(torch.from_numpy(np.asarray(train.points)), 20 if args.quick else 200, rng)
    matrices = {"train shapes": pairwise_chamfer(train.points), "predictions": pairwise_chamfer(predictions)}
    start = time.perf_counter()
    for d in matrices.values():
        SkAffinityPropagation(affinity="precomputed", random_state=0).fit(-d)
    sk_ap = time.perf_counter() - start
    baseline = n_pairs / rate + sk_ap
    print(f"data: {n_train} train / {n_test} test clouds of {points} points, {size} px images")
    print(
        f"svrlens diagnose (everything):                {ours:8.1f} s   "
        f"verdict {result['verdict']}, Case {result['case']}"
    )
    print(
        f"plain baseline: cdist loop for {n_pairs} pairs ({rate:.0f} pairs/s, extrapolated) "
        f"+ scikit-learn AP ({sk_ap:.1f} s): {baseline:8.1f} s"
    )
    print(f"speed-up: {baseline / ours:.0f}x")


if __name__ == "__main__":
    main()
