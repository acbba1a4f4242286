"""Every command takes every dataset: a dataset built from meshes and a user folder (images/ +
shapes/) go through train, predict, diagnose, evaluate, tendency, data inspect and data preview
alike; `svrlens tendency FOLDER_OF_MESHES` samples the meshes."""

import json

import numpy as np
import pytest
from PIL import Image

from svrlens.cli import main
from svrlens.data.build import BuildConfig, build_dataset
from svrlens.data.render import render_view
from tests.data.meshes import box, small_collection, write_mesh


@pytest.fixture(scope="module")
def meshes(tmp_path_factory):
    root = tmp_path_factory.mktemp("meshes")
    small_collection(root, per_category=6)
    return root


@pytest.fixture(scope="module")
def built(meshes, tmp_path_factory):
    out = tmp_path_factory.mktemp("built") / "data"
    config = BuildConfig(image_size=32, n_points=128, dense_points=256, split=(0.5, 0.1, 0.4))
    build_dataset(meshes, out, config, jobs=0, progress=False)
    return out


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory):
    """images/NAME.png rendered from shapes/NAME.obj, with split.json and labels.json."""
    root = tmp_path_factory.mktemp("folder")
    (root / "images").mkdir()
    names, labels = [], {}
    for k in range(12):
        name = f"s{k:02d}"
        vertices, faces = box((1.0 + 0.15 * k, 1.0 + (k % 2), 0.6))
        write_mesh(root / "shapes" / f"{name}.obj", vertices, faces)
        image = render_view(vertices - vertices.mean(0), faces, image_size=32, extent=2.0, two_sided=True)
        Image.fromarray(image).save(root / "images" / f"{name}.png")
        names.append(name)
        labels[name] = "tall" if k % 2 else "flat"
    split = {"train": names[:6], "val": names[6:8], "test": names[8:]}
    (root / "split.json").write_text(json.dumps(split))
    (root / "labels.json").write_text(json.dumps(labels))
    return root


@pytest.mark.parametrize("which", ["built", "user_folder"])
def test_train_predict_diagnose_evaluate(which, request, tmp_path, capsys):
    data = str(request.getfixturevalue(which))
    run = tmp_path / "run"
    train = ["train", data, "--out", str(run), "--epochs", "2", "--image-size", "32", "--batch-size", "4"]
    assert main([*train, "--labels", "full", "--quiet"]) == 0
    assert (run / "predictions" / "test.npz").is_file()
    assert json.loads((run / "dataset.json").read_text())["path"] == str(
        request.getfixturevalue(which).resolve()
    )
    assert main(["predict", str(run / "best.pt"), data, "--out", str(tmp_path / "pred.npz")]) == 0
    with np.load(tmp_path / "pred.npz") as predicted:
        assert predicted["points"].shape == (12, 1024, 3)
        assert ("names" in predicted.files) == (which == "user_folder")  # a user folder matches by name
    # One diagnosis each (a diagnosis takes tens of seconds on a loaded 2-core machine): diagnose
    # reads the built dataset, evaluate re-opens the user folder from the run's dataset.json.
    fast = ["--bootstrap", "20", "--quiet"]
    if which == "built":
        diagnose = ["diagnose", "--train", data, "--predictions", str(tmp_path / "pred.npz")]
        assert main([*diagnose, "--out", str(tmp_path / "out"), *fast]) == 0
    else:
        assert main(["evaluate", str(run), "--out", str(tmp_path / "out"), *fast]) == 0
    result = json.loads((tmp_path / "out" / "diagnosis.json").read_text())
    assert result["verdict"] in ("recognition", "reconstruction", "mixed", "collapsed")
    assert result["provenance"]["n_test"] == 4 and result["sampling"]["measured"]


@pytest.mark.parametrize("which", ["built", "user_folder"])
def test_tendency_inspect_and_preview(which, request, tmp_path, capsys):
    data = str(request.getfixturevalue(which))
    assert main(["tendency", data, "--method", "labels", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "training clouds" in out and "N=12" in out and "K=2" in out
    assert main(["data", "inspect", data, "--quiet", "--json", str(tmp_path / "inspect.json")]) == 0
    summary = json.loads((tmp_path / "inspect.json").read_text())
    assert summary["samples"] == 12 and summary["splits"]["train"] == 6
    assert main(["data", "preview", data, "--out", str(tmp_path / "sheet.png"), "--count", "3"]) == 0
    assert (tmp_path / "sheet.png").stat().st_size > 0


def test_tendency_of_a_folder_of_meshes(meshes, built, capsys):
    from svrlens.data import load_dataset
    from svrlens.data.mesh_samples import sample_collection

    # The folder's meshes are sampled exactly as `data build` samples them (same seed, same order).
    sampled = sample_collection(meshes, n_points=128)
    assert np.array_equal(sampled["clouds"], load_dataset(built).points)
    assert main(["tendency", str(meshes), "--method", "labels", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "12 meshes of the generic layout, 1024 points each, unit box, y up" in out and "K=2" in out
