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


def farthest_point_sample(clouds: np.ndarray, n_points: int, rng: np.random.Generator) -> np.ndarray:
    """Farthest-point subsamples: ``n_points`` of each cloud, spread as evenly as greedy can.

    Starting from one random point per cloud, each step adds the point farthest (Euclidean) from
    those already chosen. The result is an even ("blue-noise") sampling of the cloud's surface,
    unlike an i.i.d. sample: svrlens uses it for idealised predictors whose points are as regular
    as a network's folded grid (:mod:`svrlens.evaluation.calibration`).

    Parameters
    ----------
    clouds : ndarray of shape (B, M, 3)
        Dense samples (M ≥ ``n_points``; 4× or more gives an even result).
    n_points : int
    rng : numpy.random.Generator
        Chooses each cloud's first point.

    Returns
    -------
    ndarray of shape (B, n_points, 3), float32

    Raises
    ------
    ValueError
        ``clouds`` not (B, M, 3) or not finite, or ``n_points`` not an integer in 1 … M.
    """
    import numbers

    clouds = np.asarray(clouds, np.float64)
    if (
        clouds.ndim != 3
        or clouds.shape[2] != 3
        or isinstance(n_points, bool)
        or not isinstance(n_points, numbers.Integral)
        or not 1 <= n_points <= clouds.shape[1]
    ):
        raise ValueError(
            f"farthest_point_sample: expected (B, M, 3) clouds and 1 ≤ n_points ≤ M, "
            f"found {clouds.shape} and {n_points!r}"
        )
    if not np.isfinite(clouds).all():
        raise ValueError("farthest_point_sample: expected finite coordinates, found NaN or inf")
    batch, rows = clouds.shape[0], np.arange(clouds.shape[0])
    chosen = np.empty((batch, n_points), np.int64)
    chosen[:, 0] = rng.integers(0, clouds.shape[1], batch)
    nearest = np.full(clouds.shape[:2], np.inf)  # (B, M) squared distance to the chosen set
    for step in range(1, n_points):
        last = clouds[rows, chosen[:, step - 1]][:, None, :]  # (B, 1, 3)
        np.minimum(nearest, ((clouds - last) ** 2).sum(-1), out=nearest)
        chosen[:, step] = nearest.argmax(1)
    return clouds[rows[:, None], chosen].astype(np.float32)
