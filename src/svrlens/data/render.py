"""A software z-buffer rasterizer: isometric orthographic view, flat Lambert shading (numba).

No native dependencies and byte-deterministic. The camera looks from direction (1, 1, 1)
toward the origin; screen "up" is the projection of +z. The light comes from
``LIGHT`` — deliberately *not* the view direction: a head-light gives the three visible cube
faces the same brightness and renders the cube as a flat hexagon.

Other views (:func:`render_view`) rotate the mesh so that the camera at (azimuth, elevation)
lands on the isometric one (azimuth 45°, elevation arctan(1/√2) ≈ 35.26°, measured from +x
toward +y about the up axis +z): the light turns with the camera, so every view is lit alike.
Real meshes are neither closed nor consistently oriented: ``two_sided`` draws every triangle
from both sides (a reversed copy; the z-buffer keeps the nearer), lit on the side seen.
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


ISOMETRIC_ANGLES = (45.0, float(np.degrees(np.arctan(1.0 / np.sqrt(2.0)))))  # (azimuth, elevation), deg


def view_rotation(azimuth: float, elevation: float) -> np.ndarray:
    """The rotation R (3, 3) such that the isometric camera sees ``vertices @ R.T`` as a camera at
    (``azimuth``, ``elevation``) degrees sees ``vertices``: azimuth from +x toward +y about +z,
    elevation above the xy plane, in (−90, 90); screen up is the projection of +z.

    Raises
    ------
    ValueError
        An elevation outside (−90°, 90°) (the screen's up direction is undefined there).
    """
    if not -90.0 < elevation < 90.0:
        raise ValueError(f"elevation: expected degrees in (-90, 90), found {elevation}")
    az, el = np.radians(azimuth), np.radians(elevation)
    view = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    right = np.cross([0.0, 0.0, 1.0], view)
    right /= np.linalg.norm(right)
    basis_view = np.stack([right, np.cross(view, right), view])  # rows: screen right, up, toward viewer
    basis_iso = np.stack([SCREEN_RIGHT, SCREEN_UP, VIEW])
    return basis_iso.T @ basis_view


def render_view(
    vertices: np.ndarray,
    faces: np.ndarray,
    *,
    azimuth: float | None = None,
    elevation: float | None = None,
    image_size: int = 128,
    extent: float | None = None,
    two_sided: bool = False,
) -> np.ndarray:
    """Render one mesh from (``azimuth``, ``elevation``) degrees (None, None: the isometric view,
    byte-identical to :func:`render_isometric`).

    Parameters
    ----------
    vertices : ndarray of shape (V, 3)
    faces : ndarray of shape (F, 3), int
    azimuth, elevation : float or None, default=None
        Degrees; see :func:`view_rotation`. Both or neither.
    image_size, extent
        As in :func:`render_isometric` (``extent`` is a distance from the origin, so it holds for
        every view).
    two_sided : bool, default=False
        Draw back faces too (open or inconsistently wound meshes).

    Returns
    -------
    ndarray of shape (image_size, image_size, 3), uint8
    """
    vertices = np.asarray(vertices, np.float64)
    faces = np.asarray(faces, np.int64)
    if (azimuth is None) != (elevation is None):
        raise ValueError(f"expected both azimuth and elevation or neither, found {azimuth}, {elevation}")
    if azimuth is not None:
        vertices = vertices @ view_rotation(azimuth, elevation).T
    if two_sided:
        faces = np.concatenate([faces, faces[:, ::-1]])
    return render_isometric(vertices, faces, image_size=image_size, extent=extent)
