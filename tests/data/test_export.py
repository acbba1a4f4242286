"""svrlens data export writes a user folder that reads back as the same data and diagnosis."""

import json
import warnings
from dataclasses import replace

import numpy as np
import pytest

from svrlens.data import SynthConfig, load_dataset, synthesize
from svrlens.data.export import export_folder
from svrlens.data.folder import load_folder
from svrlens.errors import InputError
from svrlens.evaluation import EvaluationConfig, diagnose

CONFIG = SynthConfig(n_shapes=30, n_points=64, image_size=16, dense_points=128, seed=4)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return synthesize(CONFIG, tmp_path_factory.mktemp("export") / "base", progress=False)


def test_files_are_named_by_dataset_index_and_pair_by_name(base, tmp_path):
    out = export_folder(base, tmp_path / "f", indices=[19, 0, 5])
    stems = {sub: sorted(p.stem for p in (out / sub).iterdir()) for sub in ("images", "shapes", "meshes")}
    assert (
        stems["images"] == stems["shapes"] == stems["meshes"] == ["shape_00000", "shape_00005", "shape_00019"]
    )
    data = load_dataset(base)
    split = json.loads((out / "split.json").read_text())
    expected = {s: [f"shape_{i:05d}" for i in m if i in (0, 5, 19)] for s, m in data.splits.items()}
    assert split == expected


def test_a_second_export_is_refused_without_force(base, tmp_path):
    out = export_folder(base, tmp_path / "f", indices=[0])
    with pytest.raises(InputError, match="already holds an export"):
        export_folder(base, out, indices=[1])
    assert [p.stem for p in (out / "images").iterdir()] == ["shape_00000"]  # untouched
    export_folder(base, out, indices=[1], force=True)
    assert [p.stem for p in (out / "images").iterdir()] == ["shape_00001"]
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="did not write"):
        export_folder(base, tmp_path / "g", force=True)
    assert (tmp_path / "g" / "notes.txt").read_text() == "mine"


def test_round_trip_gives_the_same_arrays_and_the_same_diagnosis(base, tmp_path):
    data = load_dataset(base)
    folder = load_folder(export_folder(base, tmp_path / "f"), n_points=64, dense_points=128)
    assert np.array_equal(folder.images, data.images)  # names sort as indices: the same order
    assert np.array_equal(folder.points, data.points) and np.array_equal(folder.dense, data.dense)
    assert {k: list(v) for k, v in folder.splits.items()} == {k: list(v) for k, v in data.splits.items()}
    config = EvaluationConfig(n_bootstrap=20, null_references=2)

    def diagnosis(dataset):
        train, test = dataset.subset("train"), dataset.subset("test")
        predictions = np.asarray(test.points)[::-1].copy()  # any fixed predictions will do
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tiny clouds: thresholds below the point spacing
            return diagnose(train, test, predictions, config=config)

    from_folder, from_dataset = diagnosis(folder), diagnosis(data)
    for key in ("verdict", "sampling_floor", "model", "oracle_nn", "shape_tendency", "image_tendency"):
        assert from_folder[key] == from_dataset[key], key
    # A folder holds no morph weights, so its statistic takes the model-free form: exactly the
    # dataset's when the dataset's weights are set aside too.
    assert from_folder["statistic"]["form"] == "model-free"
    assert from_folder["statistic"] == diagnosis(replace(data, morph=None))["statistic"]
