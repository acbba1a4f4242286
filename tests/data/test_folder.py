import json
import subprocess
import sys

import numpy as np
import pytest
import trimesh
from PIL import Image

from svrlens.data.folder import load_folder, open_dataset
from svrlens.errors import InputError

# Every fixture has clouds of other sizes than asked: the resampling warning is expected (and
# asserted in test_reads_the_documented_layout).
pytestmark = pytest.mark.filterwarnings("ignore:.*resampled:UserWarning")


def make_folder(root, n=15, size=16, split=True):
    """A user folder in the documented layout: meshes (.ply/.obj/.off) and clouds (.npy/.npz)."""
    (root / "images").mkdir(parents=True)
    (root / "shapes").mkdir()
    names = [f"obj_{k:02d}" for k in range(n)]
    for k, name in enumerate(names):
        group = k % 3
        pixels = np.zeros((size, size, 4), np.uint8)
        pixels[..., group] = 200
        pixels[..., 3] = 255 if k else 0  # the first is fully transparent: composited on white
        Image.fromarray(pixels).save(root / "images" / f"{name}.png")
        shape = [
            trimesh.creation.box(extents=[1.0, 1.0, 1.0]),
            trimesh.creation.icosphere(subdivisions=2),
            trimesh.creation.cone(0.5, 1.0),
        ][group]
        shape.apply_translation([0.01 * k, 0, 0])
        kind = k % 5
        if kind == 0:
            shape.export(root / "shapes" / f"{name}.ply")
        elif kind == 1:
            shape.export(root / "shapes" / f"{name}.obj")
        elif kind == 2:
            shape.export(root / "shapes" / f"{name}.off")
        elif kind == 3:
            np.save(root / "shapes" / f"{name}.npy", trimesh.sample.sample_surface(shape, 256, seed=k)[0])
        else:
            np.savez(
                root / "shapes" / f"{name}.npz", points=trimesh.sample.sample_surface(shape, 64, seed=k)[0]
            )
    if split:
        (root / "split.json").write_text(json.dumps({"train": names[:10], "test": names[10:]}))
    (root / "labels.json").write_text(
        json.dumps({name: ["box", "sphere", "cone"][k % 3] for k, name in enumerate(names)})
    )
    return names


def test_reads_the_documented_layout(tmp_path):
    names = make_folder(tmp_path / "mine")
    with pytest.warns(UserWarning, match=r"6 of 15 shapes had another number of points than 128"):
        data = open_dataset(tmp_path / "mine", n_points=128)
    assert data.points.shape == (15, 128, 3) and data.images.shape == (15, 16, 16, 3)
    assert data.images[0].min() == 255  # transparent → white
    assert (
        data.labels.tolist() == [0, 2, 1] * 5
    )  # box, sphere, cone numbered in sorted order: box=0, cone=1, sphere=2
    assert (
        data.manifest["names"] == names and len(data.splits["train"]) == 10 and len(data.splits["test"]) == 5
    )
    for k in range(1, 15, 3):  # icospheres of radius 1, shifted by 0.01·k: points on the surface
        centred = data.points[k] - np.array([0.01 * k, 0, 0], np.float32)
        np.testing.assert_allclose(np.linalg.norm(centred, axis=-1), 1.0, atol=0.05)
    again = load_folder(tmp_path / "mine", n_points=128)
    np.testing.assert_array_equal(again.points, data.points)  # seeded


def test_a_folder_has_a_digest_of_every_file_it_read(tmp_path):
    """Provenance names the exact data of a user folder too: one SHA-256 over its files."""
    make_folder(tmp_path / "mine")
    first = load_folder(tmp_path / "mine", n_points=64).manifest["sha256"]["folder"]
    assert (
        len(first) == 64 and load_folder(tmp_path / "mine", n_points=64).manifest["sha256"]["folder"] == first
    )
    (tmp_path / "mine" / "labels.json").write_text(json.dumps({}))
    with pytest.raises(InputError):  # labels.json now misses names: refused, not hashed
        load_folder(tmp_path / "mine", n_points=64)
    (tmp_path / "mine" / "labels.json").unlink()
    without_labels = load_folder(tmp_path / "mine", n_points=64).manifest["sha256"]["folder"]
    pixels = np.full((16, 16, 3), 7, np.uint8)
    Image.fromarray(pixels).save(tmp_path / "mine" / "images" / "obj_03.png")
    changed = load_folder(tmp_path / "mine", n_points=64).manifest["sha256"]["folder"]
    assert len({first, without_labels, changed}) == 3


def test_without_split_everything_is_train_and_test(tmp_path):
    make_folder(tmp_path / "mine", split=False)
    data = load_folder(tmp_path / "mine", n_points=64)
    assert len(data.splits["train"]) == len(data.splits["test"]) == 15


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda r: (r / "shapes" / "obj_03.npy").unlink(), r"no shape for 1 images \(first: 'obj_03'"),
        (
            lambda r: Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(r / "images" / "obj_04.png"),
            "obj_04.png: expected every image to be 16x16",
        ),
        (lambda r: (r / "images" / "obj_05.png").write_bytes(b"junk"), "obj_05.png: not a readable image"),
        (
            lambda r: np.save(r / "shapes" / "obj_03.npy", np.full((10, 3), np.nan)),
            "obj_03.npy: points contain NaN or inf",
        ),
        (
            lambda r: np.save(r / "shapes" / "obj_03.npy", np.zeros((10, 2))),
            r"obj_03.npy: expected points of shape \(P, 3\)",
        ),
        (
            lambda r: (r / "split.json").write_text('{"train": ["nobody"]}'),
            "split.json: names without an image",
        ),
        (lambda r: (r / "split.json").write_text("{oops"), "split.json: not valid JSON"),
        (lambda r: (r / "labels.json").write_text('{"obj_00": 1}'), "labels.json: no label for 14 samples"),
        (lambda r: np.save(r / "shapes" / "obj_00.npy", np.zeros((4, 3))), "two shapes for 'obj_00'"),
    ],
)
def test_errors_name_the_file(tmp_path, damage, message):
    make_folder(tmp_path / "mine")
    damage(tmp_path / "mine")
    with pytest.raises(InputError, match=message):
        load_folder(tmp_path / "mine", n_points=32)


def test_diagnose_a_user_folder(tmp_path):
    names = make_folder(tmp_path / "mine")
    data = load_folder(tmp_path / "mine", n_points=1024)
    test = data.splits["test"]
    # Predictions by name, in shuffled order; and as a folder of .ply point clouds.
    shuffled = test[::-1]
    np.savez(
        tmp_path / "pred.npz",
        points=np.asarray(data.points)[shuffled],
        names=np.array([names[i] for i in shuffled]),
    )
    (tmp_path / "pred_dir").mkdir()
    for i in test:
        trimesh.PointCloud(np.asarray(data.points)[i]).export(tmp_path / "pred_dir" / f"{names[i]}.ply")
    for predictions in ("pred.npz", "pred_dir"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "svrlens",
                "diagnose",
                "--train",
                tmp_path / "mine",
                "--predictions",
                tmp_path / predictions,
                "--out",
                tmp_path / f"out_{predictions}",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        diagnosis = json.loads((tmp_path / f"out_{predictions}" / "diagnosis.json").read_text())
        assert (
            diagnosis["model"]["chamfer"] < diagnosis["oracle_nn"]["chamfer"]
        )  # the truth itself beats any training shape
    (tmp_path / "pred_dir" / f"{names[test[0]]}.ply").unlink()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "svrlens",
            "diagnose",
            "--train",
            tmp_path / "mine",
            "--predictions",
            tmp_path / "pred_dir",
            "--out",
            tmp_path / "x",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert (
        result.returncode == 2
        and f"no prediction for 1 test samples (first: '{names[test[0]]}')" in result.stderr
    )
