"""Area-weighted uniform samples of a triangle mesh's surface."""

from __future__ import annotations

import numpy as np

from .mesh import triangle_areas


def sample_surface(
    vertices: np.ndarray, faces: np.ndarray, n_points: int, rng: np.random.Generator
) -> np.ndarray:
    """``n_points`` points uniform over the surface area of one mesh.

    A triangle is drawn with probability proportional to its area, then a point uniform in it
    (u = √r₁: ``(1 − u)·a + u(1 − r₂)·b + u·r₂·c``). Degenerate triangles have zero weight.

    Parameters
    ----------
    vertices : ndarray of shape (V, 3)
    faces : ndarray of shape (F, 3), int
    n_points : int
    rng : numpy.random.Generator
        One generator per shape (``default_rng([seed, index])``) makes any shape reproducible alone.

    Returns
    -------
    ndarray of shape (n_points, 3), float32
    """
    areas = triangle_areas(vertices, faces)
    cdf = np.cumsum(areas)
    if not cdf[-1] > 0:
        raise ValueError("mesh: expected a positive surface area, found 0")
    tri = np.minimum(np.searchsorted(cdf, rng.random(n_points) * cdf[-1], side="right"), len(faces) - 1)
    r1, r2 = rng.random((2, n_points))
    u = np.sqrt(r1)[:, None]
    a, b, c = (vertices[faces[tri, k]] for k in range(3))
    return ((1 - u) * a + u * (1 - r2[:, None]) * b + u * r2[:, None] * c).astype(np.float32)
