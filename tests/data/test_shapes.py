import numpy as np
import pytest
import trimesh
from scipy import stats

from svrlens.data import MorphFamily, SynthConfig, generate
from svrlens.data.mesh import base_vertices, cube_grid_mesh, uv_sphere
from svrlens.data.render import pixels_per_unit, render_isometric
from svrlens.data.sampling import sample_surface
from svrlens.data.synth import morph_weights, random_splits

SHAPES = ("cube", "sphere", "pyramid")
PYRAMID_PLANES = (np.array([[2.0, 0, 1], [-2.0, 0, 1], [0, 2.0, 1], [0, -2.0, 1], [0, 0, -1.0]]), np.ones(5))


@pytest.mark.parametrize("n", [2, 8, 16])
def test_mesh_is_a_closed_consistent_surface(n):
    directions, faces = cube_grid_mesh(n)
    assert directions.shape == (6 * n * n + 2, 3) and faces.shape == (12 * n * n, 3)
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1.0)
    for vertices in base_vertices(SHAPES, directions):
        mesh = trimesh.Trimesh(vertices, faces, process=False)
        assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0


def test_base_shapes_are_exact_and_of_equal_volume():
    directions, faces = cube_grid_mesh(16)
    cube, sphere, pyramid = base_vertices(SHAPES, directions)
    assert np.abs(cube).max(1) == pytest.approx(np.ones(len(cube)))  # half-side 1 everywhere
    radius = (6 / np.pi) ** (1 / 3)
    np.testing.assert_allclose(np.linalg.norm(sphere, axis=1), radius)
    normals, offsets = PYRAMID_PLANES
    scale = 3 ** (1 / 3)
    np.testing.assert_allclose(
        (pyramid / scale @ normals.T / offsets).max(1), 1.0, atol=1e-12
    )  # on its planes
    assert trimesh.Trimesh(cube, faces).volume == pytest.approx(8.0)
    assert trimesh.Trimesh(pyramid, faces).volume == pytest.approx(
        8.0
    )  # flat faces: exact, the mesh follows the creases
    assert trimesh.Trimesh(sphere, faces).volume == pytest.approx(8.0, rel=0.01)
    bounding = base_vertices(SHAPES, directions, size="bounding")
    np.testing.assert_allclose(np.linalg.norm(bounding, axis=2).max(1), np.sqrt(3))


def test_samples_lie_on_the_surfaces():
    directions, faces = cube_grid_mesh(16)
    cube, sphere, pyramid = base_vertices(SHAPES, directions)
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(np.abs(sample_surface(cube, faces, 2000, rng)).max(1), 1.0, atol=1e-6)
    normals, offsets = PYRAMID_PLANES
    points = sample_surface(pyramid, faces, 2000, rng).astype(np.float64) / 3 ** (1 / 3)
    np.testing.assert_allclose((points @ normals.T / offsets).max(1), 1.0, atol=1e-6)
    norms = np.linalg.norm(sample_surface(sphere, faces, 2000, rng), axis=1)
    assert norms.max() <= (6 / np.pi) ** (1 / 3) + 1e-5 and norms.min() > 0.99 * (6 / np.pi) ** (1 / 3)


def test_sampling_is_uniform_on_the_sphere():
    """Archimedes: the height of a uniform point on a sphere is uniform on [-R, R]."""
    directions, faces = cube_grid_mesh(32)
    sphere = base_vertices(("sphere",), directions)[0]
    points = sample_surface(sphere, faces, 20000, np.random.default_rng(1)).astype(np.float64)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    for axis in range(3):
        assert stats.kstest(points[:, axis], stats.uniform(-1, 2).cdf).pvalue > 0.01
    faces_hit = np.abs(
        sample_surface(base_vertices(("cube",), directions)[0], faces, 60000, np.random.default_rng(2))
    ).argmax(1)
    np.testing.assert_allclose(np.bincount(faces_hit) / 60000, 1 / 3, atol=0.01)


def test_rendered_cube_silhouette_is_the_isometric_hexagon():
    directions, faces = cube_grid_mesh(16)
    cube = base_vertices(("cube",), directions)[0]
    extent = np.sqrt(3.0)
    image = render_isometric(cube, faces, image_size=128, extent=extent)
    covered = (image != 255).any(-1).sum()
    hexagon = 4 * np.sqrt(3) * pixels_per_unit(128, extent) ** 2  # regular hexagon, circumradius √(8/3)
    assert covered == pytest.approx(hexagon, rel=0.03)
    # Not a head-light: the three visible faces have three clearly different shades.
    colours, counts = np.unique(
        image.reshape(-1, 3)[(image != 255).any(-1).reshape(-1)], axis=0, return_counts=True
    )
    main = colours[np.argsort(counts)[-3:]]
    assert len({int(c[0]) for c in main}) == 3 and np.ptp(main[:, 0].astype(int)) > 30


def test_nearest_vertex_mode_snaps_to_the_uv_sphere():
    directions, _ = cube_grid_mesh(16)
    snapped = base_vertices(("cube", "sphere"), directions, mode="nearest-vertex")[1]
    target = uv_sphere((6 / np.pi) ** (1 / 3))
    assert all(np.isclose(np.linalg.norm(target - v, axis=1).min(), 0) for v in snapped)
    assert len(np.unique(snapped.round(9), axis=0)) < len(snapped)  # several cube vertices share a target
    radial = MorphFamily(SynthConfig(image_size=32)).vertices(np.array([[0.5, 0.5]]))
    wrinkled = MorphFamily(SynthConfig(image_size=32, mode="nearest-vertex")).vertices(np.array([[0.5, 0.5]]))
    assert np.abs(radial - wrinkled).max() > 0.05


def test_generation_is_deterministic_and_shapes_regenerate_alone():
    config = SynthConfig(n_shapes=40, image_size=32, n_points=128, seed=5)
    a, b = generate(config, progress=False), generate(config, progress=False)
    assert a.images.tobytes() == b.images.tobytes() and a.points.tobytes() == b.points.tobytes()
    weights = morph_weights("cube-sphere", 40, 5)
    for sampling in ("coupled", "independent"):
        cfg = SynthConfig(n_shapes=40, image_size=32, n_points=128, seed=5, sampling=sampling)
        data = a if sampling == "coupled" else generate(cfg, progress=False)
        family = MorphFamily(cfg)
        for index in (0, 17, 39):  # any one shape, regenerated alone
            np.testing.assert_array_equal(
                family.clouds(weights[index : index + 1], [index])[0], data.points[index]
            )
            np.testing.assert_array_equal(family.images(weights[index : index + 1])[0], data.images[index])
    other = generate(SynthConfig(n_shapes=40, image_size=32, n_points=128, seed=6), progress=False)
    assert not np.array_equal(other.points, a.points)


def test_splits_and_weights():
    splits = random_splits(1000, 0)
    assert [len(splits[k]) for k in ("train", "test", "val")] == [700, 200, 100]
    assert len(np.unique(np.concatenate(list(splits.values())))) == 1000
    t = morph_weights("cube-sphere", 1000, 0)[:, 1]
    np.testing.assert_allclose(np.diff(t), 1 / 999)
    w = morph_weights("cube-pyramid-sphere", 10000, 0)
    assert w.shape == (10000, 3) and np.allclose(w.sum(1), 1) and (w >= 0).all()
    assert len(np.unique(w.round(9), axis=0)) == 10000
    for corner in np.eye(3):  # the lattice reaches the corners and covers the simplex evenly
        assert np.linalg.norm(w - corner, axis=1).min() < 0.02
    assert (
        np.histogram(w[:, 0], bins=5, range=(0, 1))[0][0] > np.histogram(w[:, 0], bins=5, range=(0, 1))[0][-1]
    )


@pytest.mark.parametrize(
    "values,message",
    [
        (
            dict(family="torus"),
            "family: expected one of 'cube-sphere' or 'cube-pyramid-sphere', found 'torus'",
        ),
        (dict(mode="snap"), "mode: expected"),
        (dict(size="huge"), "size: expected"),
        (dict(sampling="lazy"), "sampling: expected"),
        (dict(image_size=4), "image_size: expected a value ≥ 8, found 4"),
        (dict(mesh_resolution=5), "mesh_resolution: expected an even number of grid cells, found 5"),
        (dict(n_shapes=2.5), "n_shapes: expected an integer, found 2.5"),
        (dict(n_points=10**9), "n_points: expected a value ≤ 1,000,000"),
        (dict(n_shapes=10**7, image_size=1024), "expected a dataset of at most 64 GiB in memory"),
    ],
)
def test_config_errors_are_raised_before_anything_is_generated(values, message):
    """Types and ranges when the config is built, the memory bound when it is resolved."""
    with pytest.raises(ValueError, match=message):
        MorphFamily(SynthConfig(**values))


def test_farthest_point_sample_is_the_greedy_choice_and_even(rng):
    from scipy.spatial.distance import pdist

    from svrlens.data.sampling import farthest_point_sample

    clouds = rng.normal(size=(3, 400, 3))
    clouds /= np.linalg.norm(clouds, axis=2, keepdims=True)  # points on the unit sphere
    picked = farthest_point_sample(clouds, 50, np.random.default_rng(5))
    assert picked.shape == (3, 50, 3) and picked.dtype == np.float32
    first = np.random.default_rng(5).integers(0, 400, 3)
    for cloud, sample, start in zip(clouds, picked, first):
        chosen = [start]  # brute force: each step the point farthest from every chosen one
        for _ in range(49):
            d = np.min([np.linalg.norm(cloud - cloud[c], axis=1) for c in chosen], axis=0)
            chosen.append(int(d.argmax()))
        np.testing.assert_allclose(sample, cloud[chosen].astype(np.float32))
        random_subset = cloud[rng.choice(400, 50, replace=False)]
        assert pdist(sample).min() > 2 * pdist(random_subset).min()  # even, unlike i.i.d. points
    with pytest.raises(ValueError, match="1 ≤ n_points ≤ M"):
        farthest_point_sample(clouds, 401, rng)
    with pytest.raises(ValueError, match=r"\(B, M, 3\)"):
        farthest_point_sample(clouds[0], 10, rng)
    for bad in (2.5, 3.0, True, "3", None):
        with pytest.raises(ValueError, match="n_points"):
            farthest_point_sample(clouds, bad, rng)
    with pytest.raises(ValueError, match="finite coordinates"):
        farthest_point_sample(np.where(clouds > 0.9, np.nan, clouds), 10, rng)
