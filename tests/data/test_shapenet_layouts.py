"""The ShapeNet-based layouts, on tiny fixtures written here in those layouts."""

import json

import numpy as np
import pytest
import trimesh
from PIL import Image

from svrlens.data.folder import open_dataset
from svrlens.data.shapenet import load_r2n2
from svrlens.errors import InputError

pytestmark = pytest.mark.filterwarnings("ignore:.*resampled:UserWarning")
CATEGORIES = {
    "02691156": trimesh.creation.box(extents=[2.0, 0.5, 0.5]),
    "03001627": trimesh.creation.icosphere(subdivisions=2),
}


def _cloud(category, k, n=300):
    return trimesh.sample.sample_surface(CATEGORIES[category], n, seed=k)[0] + 0.01 * k


def _png(path, k, size=24, mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = 4 if mode == "RGBA" else 3
    Image.fromarray(np.full((size, size, channels), 20 * k % 255, np.uint8), mode).save(path)


def write_what3d(root, models=3):
    (root / "classes.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text("\n".join(f"{c} name{i}" for i, c in enumerate(CATEGORIES)) + "\n")
    k = 0
    for category in CATEGORIES:
        names = [f"m{category[-2:]}{j}" for j in range(models)]
        for split, chosen in (("train", names[:2]), ("test", names[2:])):
            (root / "lists" / category).mkdir(parents=True, exist_ok=True)
            (root / "lists" / category / f"{split}.txt").write_text("\n".join(chosen) + "\n")
        for model in names:
            for view in range(5):
                (root / "points" / category / model).mkdir(parents=True, exist_ok=True)
                trimesh.PointCloud(_cloud(category, k)).export(
                    root / "points" / category / model / f"{view}.ply"
                )
                _png(root / "renderings" / category / model / f"{view}.png", k)
                k += 1


def test_what3d(tmp_path):
    write_what3d(tmp_path / "what3d")
    data = open_dataset(tmp_path / "what3d", n_points=128)
    assert data.points.shape == (30, 128, 3) and data.images.shape == (30, 24, 24, 3)
    assert len(data.splits["train"]) == 20 and len(data.splits["test"]) == 10
    assert data.manifest["names"][0] == "02691156/m560/0" and data.labels.tolist().count(1) == 15
    assert np.ptp(data.points[0], axis=0).max() == pytest.approx(2.0, abs=0.1)  # the airplane box, 2 long
    (tmp_path / "what3d" / "points" / "03001627" / "m270" / "3.ply").unlink()
    with pytest.raises(InputError, match=r"3.ply: missing \(listed in lists/\)"):
        open_dataset(tmp_path / "what3d")


def test_occupancy_networks(tmp_path):
    root = tmp_path / "onet"
    k = 0
    for category in CATEGORIES:
        models = [f"o{category[-2:]}{j}" for j in range(3)]
        for split, chosen in (("train", models[:2]), ("val", []), ("test", models[2:])):
            (root / category).mkdir(parents=True, exist_ok=True)
            (root / category / f"{split}.lst").write_text("\n".join(chosen))
        for model in models:
            folder = root / category / model
            (folder / "img_choy2016").mkdir(parents=True)
            Image.fromarray(np.full((24, 24, 3), 10 * k, np.uint8)).save(folder / "img_choy2016" / "000.jpg")
            np.savez(
                folder / "pointcloud.npz",
                points=_cloud(category, k, 2000).astype(np.float16),
                normals=np.zeros((2000, 3), np.float16),
            )
            k += 1
    data = open_dataset(root, n_points=256)
    assert data.points.shape == (6, 256, 3) and len(data.splits["test"]) == 2 and len(data.splits["val"]) == 0
    assert data.manifest["generator"] == "adapter/Occupancy Networks"


def test_r2n2_with_shapenet_clouds(tmp_path):
    k = 0
    for category in CATEGORIES:
        for j in range(2):
            model = f"r{category[-2:]}{j}"
            _png(
                tmp_path / "ShapeNetRendering" / category / model / "rendering" / "00.png",
                k,
                size=137,
                mode="RGBA",
            )
            (tmp_path / "points" / category / model).mkdir(parents=True)
            np.save(tmp_path / "points" / category / model / "pointcloud_1024.npy", _cloud(category, k, 1024))
            k += 1
    split = tmp_path / "split.json"
    split.write_text(
        json.dumps({"train": ["02691156/r560", "03001627/r270"], "test": ["02691156/r561", "03001627/r271"]})
    )
    data = load_r2n2(tmp_path / "ShapeNetRendering", tmp_path / "points", split_file=split)
    assert data.images.shape == (4, 137, 137, 3) and data.points.shape == (4, 1024, 3)
    assert data.splits["train"].tolist() == [0, 2] and data.splits["test"].tolist() == [1, 3]
    (tmp_path / "points" / "03001627" / "r271" / "pointcloud_1024.npy").unlink()
    with pytest.raises(InputError, match="no point cloud"):
        load_r2n2(tmp_path / "ShapeNetRendering", tmp_path / "points")


def test_diagnose_what3d_with_predictions_in_its_own_format(tmp_path):
    import subprocess
    import sys

    write_what3d(tmp_path / "what3d", models=4)
    # Predictions in What3D's format: .ply clouds mirroring points/, here the ground truth itself.
    (tmp_path / "pred").mkdir()
    for ply in (tmp_path / "what3d" / "points").rglob("*.ply"):
        target = tmp_path / "pred" / ply.relative_to(tmp_path / "what3d" / "points")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(ply.read_bytes())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "svrlens",
            "diagnose",
            "--train",
            tmp_path / "what3d",
            "--predictions",
            tmp_path / "pred",
            "--out",
            tmp_path / "out",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    diagnosis = json.loads((tmp_path / "out" / "diagnosis.json").read_text())
    assert (
        diagnosis["provenance"]["n_test"] == 20
        and diagnosis["model"]["chamfer"] < diagnosis["oracle_nn"]["chamfer"]
    )
