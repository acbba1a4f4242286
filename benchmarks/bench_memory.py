"""Peak memory of the tendency stage with default settings, as a multiple of the input matrix.

    python benchmarks/bench_memory.py           # N = 2000 and 10,000 (float64 Euclidean distances)
    python benchmarks/bench_memory.py --quick   # smoke mode (the test suite runs it): N = 300, 600

For each call, on a float64 (N, N) distance matrix of five Gaussian blobs: the peak of the numpy
memory traced while it runs (tracemalloc; torch's own allocator is not traced, and the CPU paths
allocate through numpy), divided by the matrix's size. ``total`` counts the input matrix too
(1 + extra): it is what the process holds at the peak. The baseline is scikit-learn on the same
matrix in the same run: ``silhouette_samples(D, labels, metric="precomputed")`` (chunked by its
``working_memory``) and, at N ≤ 2000, ``AffinityPropagation(affinity="precomputed")``.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
import warnings

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.cluster import AffinityPropagation as SkAffinityPropagation
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_samples as sk_silhouette_samples

from svrlens._machine import cpu_model
from svrlens.tendency import AffinityPropagation, silhouette_samples
from svrlens.tendency._checks import check_distances

CENTRES = [[0, 0], [10, 0], [0, 10], [10, 10], [5, 5]]


def peak_extra(fn) -> tuple[float, float]:
    """(peak traced bytes allocated while ``fn`` runs, seconds)."""
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, seconds


def measure(n: int) -> None:
    """Print one line per call at size ``n``."""
    points, _ = make_blobs(n, centers=CENTRES, cluster_std=0.8, random_state=0)
    d = cdist(points, points)  # float64
    labels = np.random.default_rng(0).integers(0, 5, n)
    calls = {
        "baseline: sklearn silhouette_samples": lambda: sk_silhouette_samples(
            d, labels, metric="precomputed"
        ),
        "svrlens check_distances": lambda: check_distances(d),
        "svrlens silhouette_samples (checks on)": lambda: silhouette_samples(d, labels),
        "svrlens AffinityPropagation().fit": lambda: AffinityPropagation().fit(d),
    }
    if n <= 2000:
        calls["baseline: sklearn AffinityPropagation"] = lambda: SkAffinityPropagation(
            affinity="precomputed", random_state=0
        ).fit(-d)
    for name, call in calls.items():
        extra, seconds = peak_extra(call)
        ratio = extra / d.nbytes
        print(f"{n:6d} {name:42s} {ratio:14.3f}x {1 + ratio:14.3f}x {seconds:8.2f}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke mode: N = 300 and 600")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    AffinityPropagation().fit(cdist(np.arange(8.0)[:, None], np.arange(8.0)[:, None]))  # compile
    print(f"CPU: {cpu_model()}")
    print(f"{'N':>6s} {'call':42s} {'extra / matrix':>15s} {'total / matrix':>15s} {'seconds':>8s}")
    for n in [300, 600] if args.quick else [2000, 10000]:
        measure(n)


if __name__ == "__main__":
    main()
