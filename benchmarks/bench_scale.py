"""How long and how much memory a diagnosis at What3D scale takes on this machine, extrapolated
from measured blocks, and the same block computed by Ray tasks on a local cluster.

    python benchmarks/bench_scale.py            # blocks of 64 × 2048 clouds; Ray on num_cpus=2
    python benchmarks/bench_scale.py --quick    # smoke mode (the test suite runs it)
    python benchmarks/bench_scale.py --no-ray   # without the Ray part

What a diagnosis computes (svrlens.evaluation.diagnosis._matrices), for N test and M training
clouds of P = 1024 points and dense references of D = 4096 points: six matrices of P-point
outputs against D-point dense clouds — training shapes (M × M), test truths × test (N × N, held
twice: as computed and symmetrised), training clouds × test (M × N), test truths × training
(N × M), predictions × training (N × M), predictions × test (N × N) — one of predictions against
themselves (N × N / 2 pairs, P vs P), and the training images' ℓ1 matrix (M × M / 2 pairs).
What3D's split (Wu et al. 2020, FIELD.md): N = 10,432 test, M = 36,757 training, 224 px images.

The time of each kind of pair (P vs D, P vs P) is measured on a block of random clouds shaped
like the real ones (the kernel's time does not depend on the coordinates' values); the
extrapolation is linear in pairs, which holds because the all-pairs kernel streams row blocks
(README, bench_geometry). Memory: every matrix is float64 in the diagnosis; the tendency's
affinity propagation on an N × N matrix needs ~2.6× that matrix (bench_memory).

The baseline, measured in the same run, is the same block computed serially with scipy's
cKDTree queried both ways (the plain way), so the printout is a ratio as well as a size.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from svrlens._machine import cpu_flags, cpu_model
from svrlens.geometry import pairwise_chamfer, pairwise_l1

WHAT3D = {"test": 10_432, "train": 36_757}
P, D = 1024, 4096
IMAGE_SIDE = 224  # What3D's renderings


def clouds(n: int, points: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, points, 3))
    radius = rng.uniform(0.8, 1.2, (n, 1, 1))
    return (x / np.linalg.norm(x, axis=-1, keepdims=True) * radius).astype(np.float32)


def pairs_per_second(a: np.ndarray, b: np.ndarray, repeats: int = 2) -> float:
    pairwise_chamfer(a[:2], b[:2])  # compile / load the kernel outside the timing
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        pairwise_chamfer(a, b)
        best = min(best, time.perf_counter() - start)
    return a.shape[0] * b.shape[0] / best


def kdtree_pairs_per_second(a: np.ndarray, b: np.ndarray) -> float:
    """The plain way: eq. 2 from scipy cKDTree nearest-neighbour queries, both directions."""
    from scipy.spatial import cKDTree

    start = time.perf_counter()
    trees_a, trees_b = [cKDTree(x) for x in a], [cKDTree(y) for y in b]
    values = [
        tree_a.query(y)[0].mean() + tree_b.query(x)[0].mean()
        for x, tree_a in zip(a, trees_a)
        for y, tree_b in zip(b, trees_b)
    ]
    assert len(values) == len(a) * len(b)
    return a.shape[0] * b.shape[0] / (time.perf_counter() - start)


def l1_pairs_per_second(side: int, rows: int, cols: int) -> float:
    """Image ℓ1 (the paper's image distance) between uint8 images of side × side × 3."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (rows, side, side, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (cols, side, side, 3), dtype=np.uint8)
    pairwise_l1(a[:2], b[:2])
    start = time.perf_counter()
    pairwise_l1(a, b)
    return rows * cols / (time.perf_counter() - start)


def what3d_table(rate_pd: float, rate_pp: float, rate_l1: float) -> list[tuple[str, float, float, float]]:
    """(matrix, pairs computed, hours, GiB held as float64) for every matrix a What3D diagnosis
    computes and holds (svrlens.evaluation.diagnosis: the shape matrices, the training images'
    ℓ1 matrix, and the test shapes' symmetrised copy of truth × test)."""
    n, m = WHAT3D["test"], WHAT3D["train"]
    rows = [  # name, pairs computed, rate, elements held
        ("training shapes (M × M, P vs D)", m * m, rate_pd, m * m),
        ("test truths × test (N × N, P vs D)", n * n, rate_pd, n * n),
        ("  its symmetrised copy, the test shapes", 0, rate_pd, n * n),
        ("training clouds × test (M × N, P vs D)", m * n, rate_pd, m * n),
        ("test truths × training (N × M, P vs D)", n * m, rate_pd, n * m),
        ("predictions × training (N × M, P vs D)", n * m, rate_pd, n * m),
        ("predictions × test (N × N, P vs D)", n * n, rate_pd, n * n),
        ("predictions (N × N / 2, P vs P)", n * (n - 1) / 2, rate_pp, n * n),
        (f"training images, ℓ1 at {IMAGE_SIDE} px (M × M / 2)", m * (m - 1) / 2, rate_l1, m * m),
    ]
    return [(name, pairs, pairs / rate / 3600, held * 8 / 2**30) for name, pairs, rate, held in rows]


def ray_block(a: np.ndarray, b: np.ndarray, block_rows: int) -> tuple[float, float, bool]:
    """(seconds local, seconds on a local Ray cluster of 2 CPUs, equal) for the block a × b."""
    import ray

    from svrlens.experiments.executors import ray_chamfer_matrix

    start = time.perf_counter()
    local = pairwise_chamfer(a, b)
    local_s = time.perf_counter() - start
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        matrix = ray_chamfer_matrix(block_pairs=1, block_rows=block_rows)
        matrix(a, b[:2])  # start every worker and load the kernel in it, outside the timing
        start = time.perf_counter()
        remote = matrix(a, b)
        ray_s = time.perf_counter() - start
    finally:
        ray.shutdown()
    return local_s, ray_s, bool(np.array_equal(local, remote))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke mode: tiny blocks")
    parser.add_argument("--no-ray", action="store_true", help="skip the local Ray cluster part")
    args = parser.parse_args()
    rows, cols = (8, 64) if args.quick else (64, 2048)
    n, m = WHAT3D["test"], WHAT3D["train"]
    print(f"CPU: {cpu_model()}; flags: {' '.join(cpu_flags())}")
    outputs, dense, sparse = clouds(rows, P, 0), clouds(cols, D, 1), clouds(cols, P, 2)
    rate_pd = pairs_per_second(outputs, dense)
    rate_pp = pairs_per_second(outputs, sparse)
    baseline = kdtree_pairs_per_second(outputs[:2], dense[: max(4, cols // 64)])
    print(f"block {rows} × {cols}: {rate_pd:,.0f} pairs/s (P={P} vs D={D}), {rate_pp:,.0f} pairs/s (P vs P)")
    print(f"baseline scipy cKDTree both ways, P vs D: {baseline:,.0f} pairs/s ({rate_pd / baseline:.1f}×)")
    print(f"\nWhat3D diagnosis (N = {n:,} test, M = {m:,} training), this machine:")
    total_h = total_gib = 0.0
    rate_l1 = l1_pairs_per_second(IMAGE_SIDE, rows, cols // 4)
    print(f"image ℓ1 at {IMAGE_SIDE} px: {rate_l1:,.0f} pairs/s")
    for name, pairs, hours, gib in what3d_table(rate_pd, rate_pp, rate_l1):
        total_h += hours
        total_gib += gib
        print(f"  {name:<44} {pairs:>15,.0f} pairs {hours:8.1f} h {gib:7.1f} GiB")
    print(f"  {'all of them':<44} {'':>21} {total_h:8.1f} h {total_gib:7.1f} GiB (float64, held)")
    extra = 1.6 * m**2 * 8 / 2**30  # bench_memory: AP's extra memory is 1.6x its matrix
    print(f"  affinity propagation on an M × M matrix: ~{extra:.0f} GiB more while it runs (1.6× the matrix)")
    if not args.no_ray:
        block_rows = 4 if args.quick else 16
        local_s, ray_s, equal = ray_block(outputs, dense, block_rows)
        tasks = rows // block_rows
        print(f"\nRay, local cluster (num_cpus=2), the {rows} × {cols} P-vs-D block in {tasks} tasks:")
        ratio = local_s / ray_s
        print(f"  {ray_s:.2f} s against {local_s:.2f} s in this process ({ratio:.2f}×); equal: {equal}")


if __name__ == "__main__":
    main()
