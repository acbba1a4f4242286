"""One vertex-corresponding mesh for every shape of a morph family (paper sec. 3.2).

Each face of the cube [-1, 1]³ is split into an n × n grid (n even) and each quadrant of a
face is triangulated along the diagonals that point at the face centre. Every vertex is a
direction u; a base shape is a radial function r(u) and a shape with morph weights w has
vertices ``(Σ wᵢ rᵢ(u))·u``, a per-vertex blend of the base shapes' vertices.

Why this mesh represents a cube *and* a square pyramid exactly: a convex polytope's radial
function is piecewise "planar", and its creases project (centrally) onto straight lines of the
cube surface. The cube's creases are the cube edges; the pyramid used here (base = the face
z = −1, apex at the centre of the face z = +1) has creases along the cube's vertical edges and
the top face's corner-to-centre diagonals, which are mesh edges.
"""

from __future__ import annotations

import numpy as np

BASE_SHAPES = ("cube", "sphere", "pyramid")
SIZE_MODES = ("volume", "bounding")


def cube_grid_mesh(n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Directions and triangles of the subdivided cube surface.

    Parameters
    ----------
    n : int, default=16
        Grid cells per face side; even, ≥ 2.

    Returns
    -------
    directions : ndarray of shape (6n² + 2, 3), float64, unit vectors
    faces : ndarray of shape (12n², 3), int64, counter-clockwise seen from outside
    """
    if n < 2 or n % 2:
        raise ValueError(f"mesh resolution: expected an even n ≥ 2, found {n}")
    grid = np.linspace(-1.0, 1.0, n + 1)
    points, triangles = [], []
    offset = 0
    for axis in range(3):
        for sign in (-1.0, 1.0):
            a, b = [k for k in range(3) if k != axis]
            uu, vv = np.meshgrid(grid, grid, indexing="ij")  # (n+1, n+1)
            face = np.empty((n + 1, n + 1, 3))
            face[..., axis] = sign
            face[..., a] = uu
            face[..., b] = vv
            points.append(face.reshape(-1, 3))
            index = np.arange((n + 1) ** 2).reshape(n + 1, n + 1) + offset
            for i in range(n):
                for j in range(n):
                    v00, v10, v01, v11 = index[i, j], index[i + 1, j], index[i, j + 1], index[i + 1, j + 1]
                    # Split along the diagonal through the face centre's quadrant corner.
                    toward_centre = (i < n // 2) == (j < n // 2)
                    if toward_centre:
                        quad = [(v00, v10, v11), (v00, v11, v01)]
                    else:
                        quad = [(v00, v10, v01), (v10, v11, v01)]
                    for tri in quad:
                        # Orientation: (a, b, axis) right-handed iff normal along +axis.
                        right_handed = np.linalg.det(np.eye(3)[[a, b, axis]]) > 0
                        triangles.append(tri if (sign > 0) == right_handed else tri[::-1])
            offset += (n + 1) ** 2
    points = np.concatenate(points)
    triangles = np.asarray(triangles, np.int64)
    # Merge the vertices that faces share along cube edges (exact grid values).
    unique, inverse = np.unique(np.round(points * (n / 2)).astype(np.int64), axis=0, return_inverse=True)
    directions = unique.astype(np.float64) / (n / 2)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return directions, inverse.reshape(-1)[triangles]


def _polytope_radius(directions: np.ndarray, normals: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Radial function of the convex polytope {x : nₖ·x ≤ dₖ} containing the origin."""
    return 1.0 / np.max(directions @ normals.T / offsets, axis=1)


def base_radius(shape: str, directions: np.ndarray, size: str = "volume") -> np.ndarray:
    """Radial function r(u) of a base shape, (V,) for directions (V, 3).

    Sizes: ``"volume"`` gives every base shape the cube's volume (8, cube [-1, 1]³);
    ``"bounding"`` gives every base shape the cube's bounding radius √3.
    """
    if shape not in BASE_SHAPES:
        raise ValueError(f"shape: expected one of {BASE_SHAPES}, found {shape!r}")
    if size not in SIZE_MODES:
        raise ValueError(f"size: expected one of {SIZE_MODES}, found {size!r}")
    if shape == "cube":
        return 1.0 / np.abs(directions).max(1)
    if shape == "sphere":
        radius = (6.0 / np.pi) ** (1.0 / 3.0) if size == "volume" else np.sqrt(3.0)
        return np.full(directions.shape[0], radius)
    # Square pyramid: base the face z = −1 (side 2), apex (0, 0, 1); volume 8/3.
    normals = np.array([[2.0, 0, 1], [-2.0, 0, 1], [0, 2.0, 1], [0, -2.0, 1], [0, 0, -1.0]])
    offsets = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    scale = 3.0 ** (1.0 / 3.0) if size == "volume" else 1.0
    return scale * _polytope_radius(directions, normals, offsets)


def uv_sphere(radius: float, segments: int = 32, rings: int = 16) -> np.ndarray:
    """Vertices of Blender's default UV sphere (poles plus ``rings − 1`` latitude rings)."""
    theta = np.linspace(0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    tt, pp = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(tt) * np.cos(pp), np.sin(tt) * np.sin(pp), np.cos(tt)], -1).reshape(-1, 3)
    return radius * np.concatenate([[[0, 0, 1.0]], ring, [[0, 0, -1.0]]])


def base_vertices(
    shapes, directions: np.ndarray, *, size: str = "volume", mode: str = "radial", target_segments: int = 32
) -> np.ndarray:
    """Vertex positions (K, V, 3) of the base shapes on the shared mesh.

    ``mode="radial"`` (default): rᵢ(u)·u, so the cube↔sphere blend equals Blender's
    Shrinkwrap (nearest surface point) toward the sphere. ``mode="nearest-vertex"``: the
    paper's literal recipe, Shrinkwrap in "Nearest Vertex" mode: each vertex of the *cube*
    moves to the nearest vertex of a UV-sphere target, so intermediate shapes are wrinkled and
    the sphere end is a snapped, degenerate surface. Other base shapes stay radial.
    """
    if mode not in ("radial", "nearest-vertex"):
        raise ValueError(f"mode: expected 'radial' or 'nearest-vertex', found {mode!r}")
    out = np.stack([base_radius(s, directions, size)[:, None] * directions for s in shapes])
    if mode == "nearest-vertex" and "sphere" in shapes:
        from scipy.spatial import cKDTree

        cube = base_radius("cube", directions, size)[:, None] * directions
        target = uv_sphere(
            float(base_radius("sphere", directions[:1], size)[0]), target_segments, target_segments // 2
        )
        out[list(shapes).index("sphere")] = target[cKDTree(target).query(cube)[1]]
    return out


def triangle_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Areas (..., F) of the triangles of vertices (..., V, 3)."""
    a = vertices[..., faces[:, 0], :]
    b = vertices[..., faces[:, 1], :]
    c = vertices[..., faces[:, 2], :]
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=-1)
