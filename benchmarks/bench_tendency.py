"""Affinity propagation and silhouette against scikit-learn, in one run.

    python benchmarks/bench_tendency.py           # N = 1000, 2000, 5000
    python benchmarks/bench_tendency.py --full    # ... and N = 10,000 (scikit-learn takes minutes)
    python benchmarks/bench_tendency.py --quick   # smoke mode (the test suite runs it)

Data: five Gaussian blobs in the plane, Euclidean distances. Both implementations get the same
preference (the median similarity, scikit-learn's default) and damping 0.75 (the paper's
ancestor scripts). Prints wall time, peak traced memory (numpy allocations, tracemalloc), the
adjusted Rand index between the partitions, the silhouette time against scikit-learn's, and the
time of the whole adaptive scan at N = 1000.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.cluster import AffinityPropagation as SkAffinityPropagation
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics import silhouette_samples as sk_silhouette_samples

from svrlens._machine import cpu_model
from svrlens.tendency import AdaptiveAffinityPropagation, AffinityPropagation, silhouette_samples

CENTRES = [[0, 0], [10, 0], [0, 10], [10, 10], [5, 5]]


def measure(fn):
    """(seconds, peak traced bytes, result) of one call."""
    tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, result


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke mode: N = 300 only")
    parser.add_argument("--full", action="store_true", help="add N = 10,000")
    args = parser.parse_args()
    sizes = [300] if args.quick else [1000, 2000, 5000] + ([10000] if args.full else [])
    warnings.simplefilter("ignore", ConvergenceWarning)
    warm = cdist(np.arange(8.0)[:, None], np.arange(8.0)[:, None])
    AffinityPropagation().fit(warm.astype(np.float32))  # compile the kernels outside the timings
    AdaptiveAffinityPropagation().fit(warm)

    print(f"CPU: {cpu_model()} (lscpu)")
    print(
        f"{'N':>6s} {'sklearn AP':>11s} {'svrlens AP':>11s} {'speed-up':>9s} "
        f"{'sklearn peak':>13s} {'svrlens peak':>13s} {'ARI':>6s} {'K':>9s} {'iters':>9s}"
    )
    for n in sizes:
        points, _ = make_blobs(n, centers=CENTRES, cluster_std=0.8, random_state=0)
        distances = cdist(points, points)
        d32 = distances.astype(np.float32)
        preference = float(np.median(-distances))
        t_sk, m_sk, sk = measure(
            lambda: SkAffinityPropagation(
                affinity="precomputed", preference=preference, damping=0.75, random_state=0
            ).fit(-distances)
        )
        t_us, m_us, us = measure(lambda: AffinityPropagation(preference=preference, damping=0.75).fit(d32))
        ari = adjusted_rand_score(sk.labels_, us.labels_)
        print(
            f"{n:6d} {t_sk:10.2f}s {t_us:10.2f}s {t_sk / t_us:8.1f}x "
            f"{m_sk / 2**20:10.0f} MiB {m_us / 2**20:10.0f} MiB {ari:6.3f} "
            f"{len(sk.cluster_centers_indices_):4d}/{len(us.cluster_centers_indices_):<4d} "
            f"{sk.n_iter_:4d}/{us.n_iter_:<4d}"
        )

    n = sizes[-1]
    points, _ = make_blobs(n, centers=CENTRES, cluster_std=0.8, random_state=0)
    distances = cdist(points, points)
    labels = np.random.default_rng(0).integers(0, 5, n)
    t_sk = measure(lambda: sk_silhouette_samples(distances, labels, metric="precomputed"))[0]
    t_us = measure(lambda: silhouette_samples(distances, labels, check=False))[0]
    print(
        f"\nsilhouette at N={n}: scikit-learn baseline {t_sk:.3f} s, "
        f"svrlens {t_us:.3f} s ({t_sk / t_us:.1f}x)"
    )

    n = 300 if args.quick else 1000
    points, truth = make_blobs(n, centers=CENTRES, cluster_std=0.8, random_state=0)
    t_scan, _, ada = measure(lambda: AdaptiveAffinityPropagation().fit(cdist(points, points)))
    print(
        f"adaptive scan at N={n}: {t_scan:.2f} s, {len(ada.scan_)} preferences, "
        f"K={len(ada.cluster_centers_indices_)}, "
        f"silhouette {ada.silhouette_:.3f}, ARI vs true blobs {adjusted_rand_score(truth, ada.labels_):.3f}"
    )


if __name__ == "__main__":
    main()
