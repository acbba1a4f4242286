"""A software z-buffer rasterizer: isometric orthographic view, flat Lambert shading (numba).

No native dependencies and byte-deterministic. The camera looks from direction (1, 1, 1)
toward the origin; screen "up" is the projection of +z. The light comes from
``LIGHT`` — deliberately *not* the view direction: a head-light gives the three visible cube
faces the same brightness and renders the cube as a flat hexagon.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

VIEW = np.array([1.0, 1.0, 1.0]) / np.sqrt(3.0)
SCREEN_RIGHT = np.array([-1.0, 1.0, 0.0]) / np.sqrt(2.0)
SCREEN_UP = np.array([-1.0, -1.0, 2.0]) / np.sqrt(6.0)
LIGHT = np.array([0.4, 0.7, 1.0]) / np.linalg.norm([0.4, 0.7, 1.0])
ALBEDO = np.array([0.80, 0.84, 0.92])
AMBIENT = 0.25
BACKGROUND = 255


@njit(parallel=True, cache=True)
def _rasterize(vertices, faces, scale, light, albedo, ambient, background, out):
    batch, height, width = out.shape[0], out.shape[1], out.shape[2]
    n_faces = faces.shape[0]
    for s in prange(batch):
        depth = np.full((height, width), -np.inf)
        image = out[s]
        for y in range(height):
            for x in range(width):
                for ch in range(3):
                    image[y, x, ch] = background
        v = vertices[s]
        # Screen coordinates: x right, y down; depth toward the viewer.
        sx = np.empty(v.shape[0])
        sy = np.empty(v.shape[0])
        sz = np.empty(v.shape[0])
        for i in range(v.shape[0]):
            px, py, pz = v[i, 0], v[i, 1], v[i, 2]
            sx[i] = (-px + py) / np.sqrt(2.0) * scale + width / 2.0
            sy[i] = height / 2.0 - (-px - py + 2.0 * pz) / np.sqrt(6.0) * scale
            sz[i] = (px + py + pz) / np.sqrt(3.0)
        for f in range(n_faces):
            a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
            e1x, e1y, e1z = v[b, 0] - v[a, 0], v[b, 1] - v[a, 1], v[b, 2] - v[a, 2]
            e2x, e2y, e2z = v[c, 0] - v[a, 0], v[c, 1] - v[a, 1], v[c, 2] - v[a, 2]
            nx, ny, nz = e1y * e2z - e1z * e2y, e1z * e2x - e1x * e2z, e1x * e2y - e1y * e2x
            if nx + ny + nz <= 0.0:  # back-facing (or degenerate): hidden on a closed mesh
                continue
            norm = np.sqrt(nx * nx + ny * ny + nz * nz)
            lambert = max(0.0, (nx * light[0] + ny * light[1] + nz * light[2]) / norm)
            shade = ambient + (1.0 - ambient) * lambert
            ax, ay, bx, by, cx, cy = sx[a], sy[a], sx[b], sy[b], sx[c], sy[c]
            area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
            if area == 0.0:
                continue
            x0 = max(int(np.floor(min(ax, bx, cx))), 0)
            x1 = min(int(np.ceil(max(ax, bx, cx))), width - 1)
            y0 = max(int(np.floor(min(ay, by, cy))), 0)
            y1 = min(int(np.ceil(max(ay, by, cy))), height - 1)
            for y in range(y0, y1 + 1):
                py = y + 0.5
                for x in range(x0, x1 + 1):
                    px = x + 0.5
                    w0 = ((bx - px) * (cy - py) - (by - py) * (cx - px)) / area
                    w1 = ((cx - px) * (ay - py) - (cy - py) * (ax - px)) / area
                    w2 = 1.0 - w0 - w1
                    if w0 < 0.0 or w1 < 0.0 or w2 < 0.0:
                        continue
                    z = w0 * sz[a] + w1 * sz[b] + w2 * sz[c]
                    if z > depth[y, x]:
                        depth[y, x] = z
                        for ch in range(3):
                            image[y, x, ch] = np.uint8(min(255.0, 255.0 * albedo[ch] * shade + 0.5))


def render_isometric(
    vertices: np.ndarray, faces: np.ndarray, *, image_size: int = 128, extent: float | None = None
) -> np.ndarray:
    """Render meshes sharing ``faces`` from the isometric view.

    Parameters
    ----------
    vertices : ndarray of shape (B, V, 3) or (V, 3)
    faces : ndarray of shape (F, 3), outward counter-clockwise
    image_size : int, default=128
        Width and height in pixels.
    extent : float, default=None
        Distance from the origin that maps to the image border (times 1/0.95). Use one value
        for a whole family so that sizes are comparable; ``None``: the largest vertex norm.

    Returns
    -------
    ndarray of shape (B, image_size, image_size, 3) or (image_size, image_size, 3), uint8
    """
    single = vertices.ndim == 2
    batch = np.ascontiguousarray(vertices[None] if single else vertices, dtype=np.float64)
    if image_size < 8:
        raise ValueError(f"image_size: expected ≥ 8 pixels, found {image_size}")
    extent = float(np.linalg.norm(batch, axis=-1).max()) if extent is None else float(extent)
    scale = 0.95 * (image_size / 2.0) / extent
    out = np.empty((batch.shape[0], image_size, image_size, 3), np.uint8)
    _rasterize(
        batch, np.ascontiguousarray(faces, dtype=np.int64), scale, LIGHT, ALBEDO, AMBIENT, BACKGROUND, out
    )
    return out[0] if single else out


def pixels_per_unit(image_size: int, extent: float) -> float:
    """The rasterizer's scale: pixels per unit length on the screen plane."""
    return 0.95 * (image_size / 2.0) / extent
