"""Generation speed of the synthetic base datasets against a plain per-shape baseline, in one run.

    python benchmarks/bench_data.py           # base #1 (1000 shapes) and base #2 (10,000), 128 px
    python benchmarks/bench_data.py --quick   # smoke mode (the test suite runs it)

The baseline makes one shape at a time the ordinary way: a ``trimesh.Trimesh`` per shape,
``trimesh.sample.sample_surface`` for the cloud, and the same z-buffer algorithm written with
per-triangle numpy operations instead of the numba kernel. It is timed on a subset of shapes and
reported in shapes/second.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import trimesh

from svrlens.data import MorphFamily, SynthConfig, generate
from svrlens.data.render import LIGHT, pixels_per_unit
from svrlens.data.synth import morph_weights


def render_plain(vertices, faces, image_size, extent):
    """Per-triangle numpy z-buffer: the same projection and shading, no compiled kernel."""
    scale = pixels_per_unit(image_size, extent)
    sx = (-vertices[:, 0] + vertices[:, 1]) / np.sqrt(2) * scale + image_size / 2
    sy = image_size / 2 - (-vertices[:, 0] - vertices[:, 1] + 2 * vertices[:, 2]) / np.sqrt(6) * scale
    sz = vertices.sum(1) / np.sqrt(3)
    depth = np.full((image_size, image_size), -np.inf)
    image = np.full((image_size, image_size, 3), 255, np.uint8)
    for a, b, c in faces:
        normal = np.cross(vertices[b] - vertices[a], vertices[c] - vertices[a])
        if normal.sum() <= 0:
            continue
        shade = 0.25 + 0.75 * max(0.0, normal @ LIGHT / np.linalg.norm(normal))
        x0, x1 = (
            int(max(np.floor(min(sx[[a, b, c]])), 0)),
            int(min(np.ceil(max(sx[[a, b, c]])), image_size - 1)),
        )
        y0, y1 = (
            int(max(np.floor(min(sy[[a, b, c]])), 0)),
            int(min(np.ceil(max(sy[[a, b, c]])), image_size - 1)),
        )
        px, py = np.meshgrid(np.arange(x0, x1 + 1) + 0.5, np.arange(y0, y1 + 1) + 0.5)
        area = (sx[b] - sx[a]) * (sy[c] - sy[a]) - (sy[b] - sy[a]) * (sx[c] - sx[a])
        if area == 0:
            continue
        w0 = ((sx[b] - px) * (sy[c] - py) - (sy[b] - py) * (sx[c] - px)) / area
        w1 = ((sx[c] - px) * (sy[a] - py) - (sy[c] - py) * (sx[a] - px)) / area
        w2 = 1 - w0 - w1
        z = w0 * sz[a] + w1 * sz[b] + w2 * sz[c]
        region = depth[y0 : y1 + 1, x0 : x1 + 1]
        hit = (w0 >= 0) & (w1 >= 0) & (w2 >= 0) & (z > region)
        region[hit] = z[hit]
        image[y0 : y1 + 1, x0 : x1 + 1][hit] = np.minimum(
            255, 255 * np.array([0.80, 0.84, 0.92]) * shade + 0.5
        ).astype(np.uint8)
    return image


def plain_rate(config: SynthConfig, count: int) -> float:
    family = MorphFamily(config)
    weights = morph_weights(family.config.family, family.config.n_shapes, config.seed)
    start = time.perf_counter()
    for index in range(count):
        vertices = family.vertices(weights[index : index + 1])[0]
        mesh = trimesh.Trimesh(vertices, family.faces, process=False)
        trimesh.sample.sample_surface(mesh, config.n_points, seed=index)
        render_plain(vertices, family.faces, config.image_size, family.extent)
    return count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke mode: 200 / 400 shapes at 32 px")
    parser.add_argument("--image-size", type=int, default=128)
    args = parser.parse_args()
    size = 32 if args.quick else args.image_size
    generate(SynthConfig(n_shapes=10, image_size=size), progress=False)  # compile outside the timings
    print(
        f"{'dataset':32s} {'shapes':>7s} {'svrlens':>9s} {'shapes/s':>9s} "
        f"{'plain baseline':>15s} {'speed-up':>9s}"
    )
    for family, n in (
        ("cube-sphere", 200 if args.quick else 1000),
        ("cube-pyramid-sphere", 400 if args.quick else 10000),
    ):
        config = SynthConfig(family=family, n_shapes=n, image_size=size)
        start = time.perf_counter()
        generate(config, progress=False)
        seconds = time.perf_counter() - start
        baseline = plain_rate(config, 5 if args.quick else 20)
        print(
            f"{family + f' ({size} px)':32s} {n:7d} {seconds:8.2f}s {n / seconds:9.0f} "
            f"{baseline:11.1f}/s {n / seconds / baseline:8.0f}x"
        )


if __name__ == "__main__":
    main()
