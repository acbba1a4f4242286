"""The dispersion score (K = 2, 10, 50) beside the adaptive-AP clustering tendency, in one run.

    python benchmarks/bench_dispersion.py           # N = 1000 and 4000
    python benchmarks/bench_dispersion.py --quick   # smoke mode (the test suite runs it): N = 300

Data: five Gaussian blobs in the plane (the same as ``bench_tendency.py``), Euclidean distances,
float32. DS is :func:`svrlens.tendency.dispersion_score` (seeded k-medoids++, the ``kmedoids``
package's FasterPAM, one start, a 1000-resample bootstrap); the baseline is the instrument it sits
beside, :func:`svrlens.tendency.clustering_tendency` (adaptive affinity propagation + mean
silhouette, the paper's eq. 10, same bootstrap). Prints the CPU model and the 1/5/15-minute load
average before and after: times on a shared machine are only comparable at a similar load.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.datasets import make_blobs

from svrlens._machine import cpu_model
from svrlens.tendency import clustering_tendency, dispersion_score

CENTRES = [[0, 0], [10, 0], [0, 10], [10, 10], [5, 5]]
KS = (2, 10, 50)


def timed(fn):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke mode: N = 300 only")
    args = parser.parse_args()
    sizes = [300] if args.quick else [1000, 4000]
    warm = cdist(np.arange(8.0)[:, None], np.arange(8.0)[:, None])
    for dtype in (np.float32, np.float64):  # compile the kernels outside the timings
        dispersion_score(warm.astype(dtype), 2, n_bootstrap=10)
    clustering_tendency(warm, n_bootstrap=10)

    print(f"CPU: {cpu_model()} (lscpu); {load()} (before)")
    print(f"{'N':>6s} {'instrument':>24s} {'seconds':>9s} {'vs baseline':>12s} {'value':>10s}")
    for n in sizes:
        points, _ = make_blobs(n, centers=CENTRES, cluster_std=0.8, random_state=0)
        distances = cdist(points, points).astype(np.float32)
        t_ap, tendency = timed(lambda: clustering_tendency(distances))
        print(f"{n:6d} {'adaptive-AP (baseline)':>24s} {t_ap:8.2f}s {1.0:11.2f}x {tendency.score:10.4f}")
        for k in KS:
            t_ds, ds = timed(lambda: dispersion_score(distances, k))
            print(
                f"{n:6d} {f'DS K={k} ({ds.solver})':>24s} {t_ds:8.2f}s {t_ds / t_ap:11.3g}x {ds.score:10.4f}"
            )
    print(f"{load()} (after)")


if __name__ == "__main__":
    main()
