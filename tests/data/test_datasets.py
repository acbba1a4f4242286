import json
import subprocess
import sys

import numpy as np
import pytest
import trimesh
from scipy import stats

from svrlens.data import N_SETS, load_dataset, save_dataset, subsample, write_family
from svrlens.errors import InputError
from svrlens.geometry import pairwise_chamfer, pairwise_l1
from svrlens.tendency import clustering_tendency


def test_round_trip_and_manifest(small_base):
    assert (
        len(small_base) == 1000
        and small_base.images.shape == (1000, 32, 32, 3)
        and small_base.points.shape == (1000, 256, 3)
    )
    assert {k: len(v) for k, v in small_base.splits.items()} == {"train": 700, "val": 100, "test": 200}
    assert len(np.unique(np.concatenate(list(small_base.splits.values())))) == 1000
    manifest = small_base.manifest
    assert manifest["format_version"] == 1 and manifest["seed"] == 3
    assert manifest["parameters"]["n_points"] == 256 and set(manifest["sha256"]) == {
        "images.npy",
        "points.npy",
        "morph.npy",
        "labels.npy",
        "dense.npy",
    }
    assert isinstance(small_base.points, np.memmap)
    train = small_base.subset("train")
    np.testing.assert_array_equal(train.points, small_base.points[small_base.splits["train"]])
    np.testing.assert_array_equal(small_base.labels, small_base.morph.argmax(1))


def _copy(base, tmp_path):
    path = tmp_path / "copy"
    save_dataset(
        path,
        np.asarray(base.images),
        np.asarray(base.points),
        morph=np.asarray(base.morph),
        splits=base.splits,
        generator="test",
        parameters={},
        seed=0,
    )
    return path


@pytest.mark.parametrize(
    "damage,message",
    [
        (
            lambda p: (p / "points.npy").write_bytes((p / "points.npy").read_bytes()[:-100]),
            "points.npy: SHA-256 does not match",
        ),
        (
            lambda p: (p / "images.npy").write_bytes((p / "images.npy").read_bytes()[:-1] + b"\\x00"),
            "images.npy: SHA-256 does not match",
        ),
        (lambda p: (p / "morph.npy").unlink(), "morph.npy: missing"),
        (lambda p: (p / "manifest.json").write_text("{not json"), "manifest.json: not valid JSON"),
        (lambda p: (p / "manifest.json").unlink(), "manifest.json is missing"),
    ],
)
def test_corrupt_datasets_name_the_file(small_base, tmp_path, damage, message):
    path = _copy(small_base, tmp_path)
    damage(path)
    with pytest.raises(InputError, match=message):
        load_dataset(path)


def test_atomic_writing_and_overwrite(small_base, tmp_path):
    path = _copy(small_base, tmp_path)
    with pytest.raises(InputError, match="already exists"):
        _copy(small_base, tmp_path)
    with pytest.raises(ValueError, match="points: expected finite"):
        bad = np.asarray(small_base.points).copy()
        bad[0, 0, 0] = np.nan
        save_dataset(
            tmp_path / "bad",
            np.asarray(small_base.images),
            bad,
            splits={},
            generator="t",
            parameters={},
            seed=0,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]  # no staging directory left behind
    assert load_dataset(path).manifest["generator"] == "test"


@pytest.mark.parametrize("family,size", [("1.1", 100), ("1.2", 20)])
def test_subsampled_families_of_base_1(small_base, family, size):
    base_train = set(small_base.splits["train"].tolist())
    for n in (1, 4, 7):
        arrays, splits, record = subsample(small_base, family, n)
        assert len(splits["train"]) == size and record["set"] == f"{family}.{n}"
        train_base = np.asarray(record["base_indices"])[splits["train"]]
        assert set(train_base.tolist()) <= base_train and len(set(train_base.tolist())) == size
        test_base = np.asarray(record["base_indices"])[splits["test"]]
        np.testing.assert_array_equal(test_base, small_base.splits["test"])  # the base test set, unchanged
        np.testing.assert_array_equal(
            arrays["images"][splits["test"]], small_base.images[small_base.splits["test"]]
        )
    arrays, splits, record = subsample(small_base, family, 1)
    if family == "1.2":  # targets are the two end shapes' own clouds
        clouds = arrays["points"][splits["train"]]
        assert all(np.array_equal(c, clouds[0]) for c in clouds[:10]) and all(
            np.array_equal(c, clouds[10]) for c in clouds[10:]
        )
        ends = record["end_shape_indices"]
        assert small_base.morph[ends[0], 1] == 0.0 and small_base.morph[ends[1], 1] == 1.0
        # The dense reference of a training target is its end shape's, like its cloud.
        dense = arrays["dense"][splits["train"]]
        np.testing.assert_array_equal(dense[0], small_base.dense[ends[0]])
        np.testing.assert_array_equal(dense[-1], small_base.dense[ends[1]])
    np.testing.assert_array_equal(
        arrays["dense"][splits["test"]], small_base.dense[small_base.splits["test"]]
    )
    assert record["base_parameters"] == small_base.manifest["parameters"]


def _tendencies(base, family):
    images, shapes = [], []
    for n in range(1, N_SETS + 1):
        arrays, splits, _ = subsample(base, family, n)
        train = splits["train"]
        images.append(clustering_tendency(pairwise_l1(arrays["images"][train])).score)
        shapes.append(clustering_tendency(pairwise_chamfer(arrays["points"][train])).score)
    return np.array(images), np.array(shapes)


def test_tendencies_move_in_the_stated_directions(small_base, small_base2):
    n = np.arange(1, N_SETS + 1)
    images, shapes = _tendencies(small_base, "1.1")  # Case 3 → Case 2: both fall
    assert stats.spearmanr(n, images).statistic < -0.8 and images[0] - images[-1] > 0.2
    assert stats.spearmanr(n, shapes).statistic < -0.8 and shapes[0] - shapes[-1] > 0.2
    images, shapes = _tendencies(small_base, "1.2")  # Case 3 → Case 1: images fall, shapes stay ≈ 1
    assert stats.spearmanr(n, images).statistic < -0.8 and images[0] - images[-1] > 0.2
    assert np.all(shapes > 0.99)
    images, shapes = _tendencies(small_base2, "2.2")
    assert images[0] - images[-1] > 0.2 and np.all(shapes > 0.99)
    images, _ = _tendencies(small_base2, "2.1")
    assert images[0] - images[-1] > 0.2


def test_write_family_and_wrong_base(small_base, small_base2, tmp_path):
    paths = write_family(small_base, "1.2", tmp_path / "fam")
    assert [p.name for p in paths] == [f"1.2.{n}" for n in range(1, 8)]
    assert (tmp_path / "fam" / "coverage-1.2.png").stat().st_size > 1000
    assert load_dataset(paths[3]).manifest["parameters"]["spread"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="family 2.1: expected a cube-pyramid-sphere base"):
        write_family(small_base, "2.1", tmp_path / "x")
    with pytest.raises(ValueError, match="family: expected one of"):
        subsample(small_base, "3.1", 1)


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "svrlens", "data", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_end_to_end(tmp_path):
    base = tmp_path / "base"
    assert (
        run_cli(
            "synth",
            "cube-sphere",
            "--out",
            base,
            "--shapes",
            "60",
            "--image-size",
            "32",
            "--points",
            "128",
            "--quiet",
        ).returncode
        == 0
    )
    result = run_cli("inspect", base, "--quiet", "--json", tmp_path / "inspect.json")
    assert result.returncode == 0 and "train 42" in result.stdout and "tendency" in result.stdout
    summary = json.loads((tmp_path / "inspect.json").read_text())
    assert summary["samples"] == 60 and "score" in summary["shape_tendency"]
    result = run_cli("preview", base, "--out", tmp_path / "sheet.png", "--count", "4")
    assert result.returncode == 0 and (tmp_path / "sheet.png").exists() and (tmp_path / "sheet.svg").exists()
    result = run_cli("export", base, "--out", tmp_path / "meshes", "--indices", "0", "59", "--format", "obj")
    assert result.returncode == 0
    meshes = sorted((tmp_path / "meshes" / "meshes").glob("*.obj"))
    assert [m.stem for m in meshes] == ["shape_00000", "shape_00059"]  # named by index, not by position
    assert trimesh.load(meshes[0], force="mesh").is_watertight


@pytest.mark.parametrize(
    "args,message",
    [
        (["synth", "torus", "--out", "X"], "argument family: invalid choice: 'torus'"),
        (
            ["synth", "cube-sphere", "--out", "X", "--image-size", "4"],
            "--image-size: expected a value ≥ 8, found 4",
        ),
        (["synth", "cube-sphere", "--out", "X", "--bogus"], "unrecognized arguments: --bogus"),
        (["inspect", "MISSING"], "MISSING: no such dataset directory"),
        (["subsample", "MISSING", "--family", "1.1", "--out", "Y"], "MISSING: no such dataset directory"),
        (["subsample", "MISSING", "--family", "9.9", "--out", "Y"], "argument --family: invalid choice"),
    ],
)
def test_cli_bad_input(tmp_path, args, message):
    result = run_cli(
        *[
            a.replace("X", str(tmp_path / "x"))
            .replace("MISSING", str(tmp_path / "missing"))
            .replace("Y", str(tmp_path / "y"))
            for a in args
        ]
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message.replace("MISSING", str(tmp_path / "missing")) in lines[0], (
        result.stderr
    )
    assert not (tmp_path / "x").exists()


def test_dense_clouds_are_independent_samples_of_the_same_surfaces(small_base):
    """The dense evaluation cloud (4096 points) samples each shape's own surface, independently of
    its training cloud: a training cloud is as close to its own dense cloud as a fresh sample of
    the same surface is (the sampling floor), and clearly closer than to another shape's."""
    from svrlens.data import MorphFamily, SynthConfig
    from svrlens.geometry import pairwise_chamfer

    assert small_base.dense.shape == (1000, 4096, 3) and small_base.manifest["counts"]["dense_points"] == 4096
    family = MorphFamily(
        SynthConfig(**{k: v for k, v in small_base.manifest["parameters"].items() if k != "base_shapes"})
    )
    ends = [0, 999]  # the cube and the sphere
    floors = pairwise_chamfer(
        np.asarray(small_base.points[ends]), np.asarray(small_base.dense[ends])
    ).diagonal()
    fresh = family.sample(np.asarray(small_base.morph[ends], np.float64), 256, np.random.default_rng(9))
    fresh_floors = pairwise_chamfer(fresh, np.asarray(small_base.dense[ends])).diagonal()
    np.testing.assert_allclose(floors, fresh_floors, rtol=0.08)
    cross = pairwise_chamfer(
        np.asarray(small_base.points[ends]), np.asarray(small_base.dense[ends[::-1]])
    ).diagonal()
    assert (cross > floors + 0.1).all()
    # Independent: no training point is repeated in the dense cloud.
    dense_rows = {tuple(row) for row in np.asarray(small_base.dense[500]).tolist()}
    assert not any(tuple(row) in dense_rows for row in np.asarray(small_base.points[500]).tolist())


def test_clouds_are_drawn_without_clipping_in_the_isometric_view():
    """A cube's corners project further on screen than its half-width: the panel holds them all."""
    import matplotlib.figure

    from svrlens.data.figures import draw_cloud, projected_extent

    corners = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij"), np.float64).reshape(3, -1).T
    extent = projected_extent([corners])
    ax = matplotlib.figure.Figure().add_subplot()
    draw_cloud(ax, corners, extent)
    offsets = ax.collections[0].get_offsets()
    assert np.abs(offsets).max() <= extent and extent > 1.2  # the old panel (1.2 × max |coordinate|) clipped
    assert len(offsets) == 8
