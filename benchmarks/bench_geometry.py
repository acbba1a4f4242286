"""Throughput of the all-pairs Chamfer / F-score kernels against plain baselines, in one run.

    python benchmarks/bench_geometry.py            # N=200 clouds × 1024 points (19,900 pairs)
    python benchmarks/bench_geometry.py --quick    # smoke mode (CI): tiny sizes, same code paths

Prints pairs/second of ``pairwise_chamfer`` and ``pairwise_fscore`` on all N(N−1)/2 pairs, the
plain baselines measured on a subset of the same pairs (a per-pair ``torch.cdist`` + min loop at
1 and 2 threads; scipy ``cKDTree`` queried both ways), the ratios, the extrapolated time of the
1000 × 1000 matrix, the float32 matmul rate of this machine and the fraction of the "8 flops per
point pair at the matmul rate" bound that the kernel reaches, and the worst relative error
against a float64 reference.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from scipy.spatial import cKDTree

from svrlens._machine import cpu_model
from svrlens.geometry import pairwise_chamfer, pairwise_fscore, pairwise_l1


def timed(fn, repeats=1):
    """Best wall time of ``repeats`` calls (the first call's compilation excluded by a warm-up)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def matmul_gflops(threads: int, size: int) -> float:
    torch.set_num_threads(threads)
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    a @ b
    seconds, _ = timed(lambda: [a @ b for _ in range(3)], repeats=3)
    return 3 * 2 * size**3 / seconds / 1e9


def cdist_loop(clouds, pairs, threads):
    torch.set_num_threads(threads)
    out = []
    for i, j in pairs:
        d = torch.cdist(clouds[i], clouds[j])
        out.append(d.min(1).values.mean() + d.min(0).values.mean())
    return out


def kdtree_loop(clouds, pairs):
    trees = {}
    out = []
    for i, j in pairs:
        ti = trees.setdefault(i, cKDTree(clouds[i]))
        tj = trees.setdefault(j, cKDTree(clouds[j]))
        out.append(tj.query(clouds[i])[0].mean() + ti.query(clouds[j])[0].mean())
    return out


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke mode: tiny sizes (CI)")
    parser.add_argument("--clouds", type=int, default=200)
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--baseline-pairs", type=int, default=300, help="pairs timed for each baseline")
    args = parser.parse_args()
    if args.quick:
        args.clouds, args.points, args.baseline_pairs = 24, 256, 20
    n, p = args.clouds, args.points
    n_pairs = n * (n - 1) // 2
    rng = np.random.default_rng(0)
    clouds = rng.standard_normal((n, p, 3)).astype(np.float32)
    threads = os.cpu_count() or 1

    print(f"machine: {cpu_model()} (lscpu), {threads} cores, torch {torch.__version__}")
    print(f"data: N={n} clouds x P={p} points (float32), {n_pairs} pairs")

    pairwise_chamfer(clouds[:3])  # compile / load the kernels outside the timings
    pairwise_fscore(clouds[:3], threshold=0.1)
    t_ch, matrix = timed(lambda: pairwise_chamfer(clouds), repeats=2)
    t_fs, _ = timed(lambda: pairwise_fscore(clouds, threshold=[0.01, 0.02, 0.05, 0.1]), repeats=2)
    rate_ch, rate_fs = n_pairs / t_ch, n_pairs / t_fs

    pair_list = [(int(i), int(j)) for i, j in zip(*np.triu_indices(n, 1))]
    sample = [
        pair_list[k]
        for k in rng.choice(len(pair_list), min(args.baseline_pairs, len(pair_list)), replace=False)
    ]
    torch_clouds = torch.from_numpy(clouds)
    cdist_loop(torch_clouds, sample[:3], 1)
    t_c1, _ = timed(lambda: cdist_loop(torch_clouds, sample, 1))
    t_c2, _ = timed(lambda: cdist_loop(torch_clouds, sample, threads))
    t_kd, kd_values = timed(lambda: kdtree_loop(clouds.astype(np.float64), sample))
    base = {
        "torch.cdist loop, 1 thread": len(sample) / t_c1,
        f"torch.cdist loop, {threads} threads": len(sample) / t_c2,
        "scipy cKDTree both ways": len(sample) / t_kd,
    }
    best_base = max(base.values())

    err = max(abs(matrix[i, j] - v) / v for (i, j), v in zip(sample, kd_values))
    gflops = matmul_gflops(threads, 1024 if args.quick else 4096)
    bound = gflops * 1e9 / (8 * p * p)

    print(f"\n{'method':38s} {'pairs/s':>10s} {'vs best baseline':>17s}")
    for name, rate in base.items():
        print(f"{name:38s} {rate:10.0f} {rate / best_base:16.2f}x")
    print(f"{'svrlens pairwise_chamfer (fused)':38s} {rate_ch:10.0f} {rate_ch / best_base:16.1f}x")
    print(f"{'svrlens pairwise_fscore, 4 thresholds':38s} {rate_fs:10.0f} {rate_fs / best_base:16.1f}x")
    print(
        f"\nfloat32 matmul: {gflops:.0f} GFLOP/s on {threads} threads -> bound {bound:.0f} pairs/s "
        f"(8 flops per point pair); pairwise_chamfer reaches {rate_ch / bound:.0%} of it"
    )
    print(
        f"1000 x 1000 matrix ({1000 * 999 // 2} pairs of {p} points), "
        f"extrapolated: {1000 * 999 / 2 / rate_ch:.1f} s"
    )
    print(f"max relative error vs float64 cKDTree on {len(sample)} pairs: {err:.1e}")

    images = (
        rng.integers(0, 256, (n, 128, 128, 3), dtype=np.uint8)
        if not args.quick
        else rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    )
    pairwise_l1(images[:3])
    t_l1, _ = timed(lambda: pairwise_l1(images))
    print(
        f"pairwise_l1 on {n} images {images.shape[1]}x{images.shape[2]}x3 uint8: "
        f"{t_l1:.2f} s ({n_pairs / t_l1:.0f} pairs/s)"
    )


if __name__ == "__main__":
    main()
