"""`svrlens data build`: tiny meshes written in each layout, built into datasets and checked."""

import json

import numpy as np
import pytest

from svrlens.cli import main
from svrlens.data import load_dataset
from svrlens.data.build import BuildConfig, build_dataset
from svrlens.data.layouts import detect_mesh_layout, find_meshes
from svrlens.data.meshes import BrokenMesh, load_mesh, up_rotation
from svrlens.data.render import render_view
from svrlens.errors import InputError

from .meshes import (
    asymmetric,
    box,
    broken_meshes,
    layout_path,
    merged,
    open_box,
    small_collection,
    write_mesh,
    write_obj,
)

SMALL = BuildConfig(image_size=16, n_points=64, dense_points=256)


def build(meshes, out, config=SMALL, **options):
    return build_dataset(meshes, out, config, jobs=0, progress=False, **options)


@pytest.mark.parametrize("layout", ["shapenet-v1", "shapenet-v2", "modelnet", "generic"])
def test_each_layout_is_detected_and_built_with_its_categories(tmp_path, layout):
    names = small_collection(tmp_path / "meshes", layout)
    assert detect_mesh_layout(tmp_path / "meshes") == layout
    result = build(tmp_path / "meshes", tmp_path / "data")
    assert (result.layout, result.shapes, result.samples, result.skipped) == (layout, 10, 10, [])
    data = load_dataset(tmp_path / "data")
    assert data.manifest["names"] == sorted(names) and data.manifest["categories"] == ["chair", "table"]
    assert data.images.shape == (10, 16, 16, 3) and data.points.shape == (10, 64, 3)
    assert data.dense.shape == (10, 256, 3)
    assert list(data.labels) == [0] * 5 + [1] * 5
    parts = [set(data.splits[k].tolist()) for k in ("train", "val", "test")]
    assert set().union(*parts) == set(range(10)) and sum(map(len, parts)) == 10
    if layout == "modelnet":  # the layout's own split: its test meshes (odd k) are the test split
        assert sorted(data.manifest["names"][i] for i in data.splits["test"]) == [
            f"{c}/m{k}" for c in ("chair", "table") for k in (1, 3)
        ]
    else:  # seeded 70 / 10 / 20 per category: 4 / 0 / 1 of 5 (rounded), every category in train
        assert sorted(len(data.splits[k]) for k in ("train", "val", "test")) == [0, 2, 8]
    assert data.manifest["parameters"]["layout"] == layout
    assert data.manifest["parameters"]["up"] == ("z" if layout == "modelnet" else "y")


def test_every_generic_file_format_is_read(tmp_path):
    small_collection(tmp_path / "meshes", suffixes=(".obj", ".off", ".ply", ".stl", ".glb"))
    data = load_dataset(build(tmp_path / "meshes", tmp_path / "data").path)
    assert len(data) == 10
    # The same box in five formats: the same normalised shape, up to the sampling.
    extents = np.ptp(np.asarray(data.dense), axis=1)
    assert np.allclose(extents.max(1), 1.0, atol=0.02)


def test_a_multi_part_mesh_is_sampled_by_area_across_its_parts(tmp_path):
    small, large = box((1, 1, 1)), box((2, 2, 2), origin=(3, 0, 0))  # areas 6 and 24
    vertices, faces = merged(small, large)
    write_obj(
        tmp_path / "m" / "thing" / "two.obj",
        vertices,
        faces,
        [("small", np.arange(12)), ("big", np.arange(12, 24))],
    )
    config = BuildConfig(image_size=16, n_points=1024, dense_points=8192, up="z")
    data = load_dataset(build(tmp_path / "m", tmp_path / "data", config).path)
    dense = np.asarray(data.dense[0])
    # after normalisation the small box is the part at low x (the long side is x: 5 → 1)
    on_small = (dense[:, 0] < dense[:, 0].min() + 1.05 / 5).mean()
    assert on_small == pytest.approx(6 / 30, abs=0.015)  # area-weighted: 6 of 30 units of area


def test_an_open_mesh_is_built_and_drawn_from_both_sides(tmp_path):
    vertices, faces = open_box((1.0, 1.0, 0.6))
    write_obj(tmp_path / "m" / "open" / "tray.obj", vertices, faces)
    result = build(tmp_path / "m", tmp_path / "data")
    assert result.shapes == 1 and result.skipped == []
    # Seen from above, the inner faces of the back walls face away from the camera: a one-sided
    # renderer culls them and leaves holes; two-sided draws them.
    one = render_view(vertices - 0.5, faces, image_size=48, extent=1.0)
    two = render_view(vertices - 0.5, faces, image_size=48, extent=1.0, two_sided=True)
    assert (two < 255).any(-1).sum() > (one < 255).any(-1).sum() + 20


def test_broken_meshes_are_listed_with_their_reason_and_skipped(tmp_path, capsys):
    small_collection(tmp_path / "meshes", per_category=2)
    expected = broken_meshes(tmp_path / "meshes" / "broken")
    code = main(
        [
            "data",
            "build",
            str(tmp_path / "meshes"),
            "--out",
            str(tmp_path / "data"),
            "--jobs",
            "0",
            "--image-size",
            "16",
            "--points",
            "32",
            "--dense-points",
            "64",
            "--quiet",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    data = load_dataset(tmp_path / "data")
    assert len(data) == 4 and data.manifest["categories"] == ["chair", "table"]
    skipped = {s["name"].split("/")[1]: s["reason"] for s in data.manifest["skipped"]}
    assert set(skipped) == set(expected)
    for name, word in expected.items():
        assert word in skipped[name], (name, skipped[name])
        assert f"broken/{name}: {skipped[name]}" in out
    assert "skipped 5 meshes:" in out


def test_a_build_in_which_no_mesh_succeeds_is_an_error(tmp_path, capsys):
    broken_meshes(tmp_path / "meshes" / "broken")
    code = main(
        ["data", "build", str(tmp_path / "meshes"), "--out", str(tmp_path / "data"), "--jobs", "0", "--quiet"]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none of the 5 meshes could be built" in err[0]
    assert not (tmp_path / "data").exists()


def test_a_rotated_mesh_comes_out_the_same_under_its_up_axis(tmp_path):
    vertices, faces = asymmetric()  # modelled z up
    for up in ("y", "-x"):
        # the same object modelled with ``up`` as its up axis (and, for y, glTF's front +z)
        write_obj(tmp_path / up / "thing" / "a.obj", vertices @ up_rotation(up), faces)
    write_obj(tmp_path / "z" / "thing" / "a.obj", vertices, faces)
    built = {}
    for up in ("z", "y", "-x"):
        config = BuildConfig(image_size=32, n_points=128, dense_points=256, up=up)
        built[up] = load_dataset(build(tmp_path / up, tmp_path / f"data-{up}", config).path)
    assert built["y"].manifest["parameters"]["up"] == "y"
    for up in ("y", "-x"):
        assert np.allclose(built[up].points, built["z"].points, atol=1e-5)
        differ = (np.asarray(built[up].images) != np.asarray(built["z"].images)).any(-1).mean()
        assert differ < 0.01
    # Upright: the tall side (2 of 2) is vertical, so the normalised cloud spans z fully.
    assert np.ptp(np.asarray(built["y"].dense[0])[:, 2]) == pytest.approx(1.0, abs=0.02)


def test_normalisations(tmp_path):
    write_mesh(tmp_path / "m" / "c" / "a.obj", *box((4.0, 2.0, 1.0), origin=(10, 20, 30)))
    for mode in ("box", "ball"):
        config = BuildConfig(image_size=16, n_points=256, dense_points=4096, normalize=mode)
        data = load_dataset(build(tmp_path / "m", tmp_path / mode, config).path)
        dense = np.asarray(data.dense[0], np.float64)
        assert np.allclose((dense.max(0) + dense.min(0)) / 2, 0, atol=0.02)
        if mode == "box":
            assert np.ptp(dense, axis=0).max() == pytest.approx(1.0, abs=0.01) and np.abs(dense).max() <= 0.5
        else:  # the farthest point (a corner) at 1
            assert 0.95 < np.linalg.norm(dense, axis=1).max() <= 1.0 + 1e-6
        shape = json.loads((tmp_path / mode / "build.json").read_text())["shapes"][0]
        # The box's centre (12, 21, 30.5), turned from y up to z up: (x, y, z) ↦ (−x, z, y).
        assert shape["centre"] == pytest.approx([-12.0, 30.5, 21.0])


def test_random_views_are_seeded_and_within_their_ranges(tmp_path):
    small_collection(tmp_path / "m", per_category=2)
    config = BuildConfig(
        image_size=24, n_points=32, dense_points=64, views="random", n_views=3, elevation=(10, 40)
    )
    one, two = (load_dataset(build(tmp_path / "m", tmp_path / f"d{k}", config).path) for k in (1, 2))
    assert len(one) == 12 and one.manifest["names"][:3] == ["chair/m0/0", "chair/m0/1", "chair/m0/2"]
    assert one.manifest["sha256"] == two.manifest["sha256"]
    angles = np.array(json.loads((tmp_path / "d1" / "build.json").read_text())["view_angles_degrees"])
    assert angles.shape == (12, 2) and (angles[:, 0] >= 0).all() and (angles[:, 0] < 360).all()
    assert (angles[:, 1] >= 10).all() and (angles[:, 1] < 40).all()
    images = np.asarray(one.images)
    assert not np.array_equal(images[0], images[1])  # two views of one shape
    assert np.array_equal(one.points[0], one.points[2])  # share its clouds …
    for split in one.splits.values():  # … and its split
        assert all(set(range(3 * (i // 3), 3 * (i // 3) + 3)) <= set(split.tolist()) for i in split)
    with pytest.raises(ValueError, match="--n-views: expected 1 for the isometric view"):
        BuildConfig(n_views=3).validate()


def test_the_isometric_view_is_the_synthetic_renderer(tmp_path):
    vertices, faces = box()
    from svrlens.data.render import render_isometric

    assert np.array_equal(
        render_view(vertices, faces, image_size=32), render_isometric(vertices, faces, image_size=32)
    )


def test_load_mesh_reasons():
    with pytest.raises(BrokenMesh, match="no faces"):
        from svrlens.data.meshes import checked

        checked(np.zeros((3, 3)), np.zeros((0, 3), int))
    with pytest.raises(BrokenMesh, match="face indices outside"):
        checked(np.zeros((3, 3)), np.array([[0, 1, 5]]))


def test_selection_and_bad_options(tmp_path):
    small_collection(tmp_path / "m", per_category=4)
    layout, entries = find_meshes(tmp_path / "m", categories=["table"], max_per_category=2)
    assert layout == "generic" and [e.name for e in entries] == ["table/m0", "table/m1"]
    with pytest.raises(InputError, match="no category 'sofa'"):
        find_meshes(tmp_path / "m", categories=["sofa"])
    write_mesh(tmp_path / "m" / "table" / "m0.ply", *box())
    with pytest.raises(InputError, match="two meshes named 'table/m0'"):
        find_meshes(tmp_path / "m")
    with pytest.raises(InputError, match="no meshes found"):
        detect_mesh_layout(_empty(tmp_path))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
    with pytest.raises(InputError, match="already exists"):
        build(tmp_path / "m", tmp_path / "out")


def _empty(tmp_path):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty"


def test_load_mesh_applies_scene_transforms(tmp_path):
    import trimesh

    scene = trimesh.Scene()
    scene.add_geometry(
        trimesh.Trimesh(*box()), transform=trimesh.transformations.translation_matrix((5, 0, 0))
    )
    scene.add_geometry(trimesh.Trimesh(*box()))
    scene.export(tmp_path / "two.glb")
    vertices, faces = load_mesh(tmp_path / "two.glb")
    assert len(faces) == 24 and vertices[:, 0].max() == pytest.approx(6.0)


def _write_hard_cases(root, layout):
    """In ``layout``: a two-part mesh, an open one, a broken one and an asymmetric one modelled
    with the layout's up axis (y, or z for ModelNet)."""
    suffix = ".off" if layout == "modelnet" else ".obj"
    vertices, faces = asymmetric()
    if layout != "modelnet":
        vertices = vertices @ up_rotation("y")  # the same object modelled y up (front +z)
    write_mesh(layout_path(root, layout, "thing", "rotated", suffix), vertices, faces)
    write_mesh(layout_path(root, layout, "thing", "parts", suffix), *merged(box(), box(origin=(2, 0, 0))))
    write_mesh(layout_path(root, layout, "tray", "open", suffix), *open_box((1.0, 1.0, 0.5)))
    broken = layout_path(root, layout, "tray", "broken", suffix, split="test")
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text(
        "OFF\n3 1 0\n0 0 0\n1 0 0\n2 0 0\n3 0 1 2\n" if suffix == ".off" else "v 0 0 0\nf 1 1 1\n"
    )


@pytest.mark.parametrize("layout", ["shapenet-v1", "shapenet-v2", "modelnet", "generic"])
def test_hard_meshes_in_each_layout(tmp_path, layout):
    _write_hard_cases(tmp_path / "m", layout)
    config = BuildConfig(image_size=16, n_points=128, dense_points=256)
    result = build(tmp_path / "m", tmp_path / "data", config)
    assert result.layout == layout and result.shapes == 3
    assert [(name, reason.split(" ")[0]) for name, reason in result.skipped] == [("tray/broken", "zero")]
    data = load_dataset(result.path)
    names = data.manifest["names"]
    assert names == ["thing/parts", "thing/rotated", "tray/open"]
    # Both parts sampled (two boxes 1 apart along x: points at both ends), the open tray built,
    # and the rotated object upright: its tall side (2) along z, as modelled.
    parts = np.asarray(data.dense[0])
    assert (parts[:, 0] < -0.2).any() and (parts[:, 0] > 0.2).any() and not (np.abs(parts[:, 0]) < 0.1).any()
    assert np.ptp(np.asarray(data.dense[1])[:, 2]) == pytest.approx(1.0, abs=0.02)
    reference = BuildConfig(image_size=16, n_points=128, dense_points=256, up="z")
    write_mesh(tmp_path / "z" / "thing" / "rotated.obj", *asymmetric())
    upright = load_dataset(build(tmp_path / "z", tmp_path / "data-z", reference).path)
    assert np.allclose(upright.points[0], data.points[1], atol=1e-5)
