"""`svrlens data build` against a plain per-mesh loop, measured in one run.

    python benchmarks/bench_build.py --meshes sh3d-meshes     # a mesh collection (e.g. the 820
                                                              # Sweet Home 3D models), 64 px
    python benchmarks/bench_build.py                          # 200 generated multi-part meshes
    python benchmarks/bench_build.py --quick                  # smoke mode (the test suite runs it)

The baseline is what one writes without svrlens: for each mesh, ``trimesh.load`` (all parts
concatenated), ``trimesh.sample.sample_surface`` for the 1024-point and the dense cloud, one
isometric render with svrlens's own z-buffer kernel (so the ratio measures the pipeline, not the
rasteriser), all kept in memory and saved with ``np.save`` at the end; one process, no checks, no
normalisation, no resume. Each side runs in a fresh Python process (imports and JIT compilation
are counted for both); its peak memory is the largest resident set of that process and of its
workers (``getrusage``). Per-mesh cost = wall time / meshes, to size a 50k-mesh build.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generated_collection(root: Path, count: int) -> Path:
    """``count`` multi-part meshes (a tall box with a side box, varied) in 4 categories."""
    sys.path.insert(0, str(ROOT))
    from tests.data.meshes import box, merged, write_obj

    for k in range(count):
        vertices, faces = merged(box((1 + k % 7 / 5, 0.6, 2)), box((0.4, 0.4, 0.4 + k % 5 / 10), (1, 0, 0.2)))
        write_obj(root / f"c{k % 4}" / f"m{k:05d}.obj", vertices, faces)
    return root


def run_svrlens(meshes, out, size, dense, jobs, count) -> None:
    from svrlens.data.build import BuildConfig, build_dataset

    config = BuildConfig(image_size=size, dense_points=dense, max_per_category=count)
    build_dataset(meshes, out, config, jobs=jobs, progress=False)


def run_plain(meshes, out, size, dense, jobs, count) -> None:
    import numpy as np
    import trimesh

    from svrlens.data.layouts import find_meshes
    from svrlens.data.render import render_isometric

    _, entries = find_meshes(meshes, max_per_category=count)
    images, points, denses = [], [], []
    for k, entry in enumerate(entries):
        try:
            mesh = trimesh.load(entry.path, force="mesh", process=False, skip_materials=True)
            a = trimesh.sample.sample_surface(mesh, 1024, seed=k)[0]
            b = trimesh.sample.sample_surface(mesh, dense, seed=k + 1)[0]
            vertices = np.asarray(mesh.vertices) - mesh.bounds.mean(0)
            vertices /= max(np.ptp(vertices, axis=0).max(), 1e-12)
            images.append(render_isometric(vertices, np.asarray(mesh.faces), image_size=size, extent=0.87))
        except Exception:  # noqa: BLE001 - a plain loop skips what it cannot read
            continue
        points.append(a)
        denses.append(b)
    Path(out).mkdir(parents=True)
    for name, arrays in (("images", images), ("points", points), ("dense", denses)):
        np.save(
            Path(out) / f"{name}.npy", np.stack(arrays).astype(np.uint8 if name == "images" else np.float32)
        )


def measure(which: str, meshes, size, dense, jobs, count) -> dict:
    """Run one side in a fresh process: wall seconds and peak RSS (MiB) of it and its workers."""
    with tempfile.TemporaryDirectory() as tmp:
        code = (
            "import json, resource, sys, time; sys.path.insert(0, %r); import bench_build as b; "
            "t = time.perf_counter(); b.run_%s(%r, %r, %d, %d, %r, %r); t = time.perf_counter() - t; "
            "own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
            "print(json.dumps({'seconds': t, 'own_mib': own / 1024, 'worker_mib': kids / 1024}))"
        ) % (str(Path(__file__).parent), which, str(meshes), str(Path(tmp) / "out"), size, dense, jobs, count)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        return result | {"wall": time.perf_counter() - start}


def main() -> None:
    from svrlens._machine import cpu_model
    from svrlens.data.layouts import find_meshes

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meshes", type=Path, help="a mesh collection (default: generated meshes)")
    parser.add_argument("--count", type=int, default=200, help="generated meshes (default: 200)")
    parser.add_argument("--max-per-category", type=int, help="use at most this many meshes per category")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--dense-points", type=int, default=4096)
    parser.add_argument("--jobs", type=int, help="data build workers (default: one per core)")
    parser.add_argument("--quick", action="store_true", help="smoke mode: 12 generated meshes at 32 px")
    args = parser.parse_args()
    size, dense = (32, 512) if args.quick else (args.image_size, args.dense_points)
    with tempfile.TemporaryDirectory() as tmp:
        meshes = args.meshes or generated_collection(Path(tmp) / "meshes", 12 if args.quick else args.count)
        n = len(find_meshes(meshes, max_per_category=args.max_per_category)[1])
        load = os.getloadavg()
        print(f"{n} meshes, {size} px, 1024 + {dense} points; CPU {cpu_model()}, {os.cpu_count()} cores")
        print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        ours = measure("svrlens", meshes, size, dense, args.jobs, args.max_per_category)
        plain = measure("plain", meshes, size, dense, args.jobs, args.max_per_category)
    print(f"{'':22s} {'wall s':>8s} {'ms/mesh':>8s} {'peak MiB (process / largest worker)':>36s}")
    for name, r in (("svrlens data build", ours), ("plain baseline loop", plain)):
        print(
            f"{name:22s} {r['wall']:8.1f} {1000 * r['wall'] / n:8.1f} "
            f"{r['own_mib']:20.0f} / {r['worker_mib']:.0f}"
        )
    print(f"ratio baseline / svrlens wall time: {plain['wall'] / ours['wall']:.2f}x")
    print(f"a 50,000-mesh build at this per-mesh cost: {50000 * ours['wall'] / n / 3600:.1f} h")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
