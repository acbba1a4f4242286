"""Small bad inputs for the refusal table (tests/test_refusals.py), each made in a test's folder.

Every builder takes the folder and returns the path it made; nothing here is a test.
"""

import json

import numpy as np
import torch
from PIL import Image

from svrlens.data import SynthConfig, synthesize
from svrlens.training import TrainConfig, save_checkpoint


def base_dataset(root):
    """A 20-shape cube-sphere dataset (14 train / 4 test / 2 val), 32 px, 64 points, no dense."""
    config = SynthConfig(n_shapes=20, n_points=64, image_size=32, mesh_resolution=4, dense_points=0)
    return synthesize(config, root / "base", progress=False)


def copy_dataset(base, root, name, edit_manifest=None, raw_manifest=None):
    """A copy of ``base`` whose manifest is edited (a function of the dict) or replaced (bytes)."""
    import shutil

    out = root / name
    shutil.copytree(base, out)
    if edit_manifest is not None:
        manifest = json.loads((out / "manifest.json").read_text())
        edit_manifest(manifest)
        (out / "manifest.json").write_text(json.dumps(manifest))
    if raw_manifest is not None:
        (out / "manifest.json").write_bytes(raw_manifest)
    return out


def user_folder(root, name="folder", n=6, size=8, shape=None, split=None, labels=None, image=None):
    """images/sNN.png and shapes/sNN.npy (64-point clouds); ``shape(path, k)`` replaces the shape
    writer, ``image(path, k)`` the image writer; ``split`` / ``labels`` are written as given
    (bytes verbatim, anything else as JSON)."""
    rng = np.random.default_rng(0)
    out = root / name
    (out / "images").mkdir(parents=True)
    (out / "shapes").mkdir()
    for k in range(n):
        image_path = out / "images" / f"s{k:02d}.png"
        if image is not None:
            image(image_path, k)
        else:
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(image_path)
        cloud = rng.normal(size=(64, 3)).astype(np.float32)
        if shape is not None:
            shape(out / "shapes", k)
        else:
            np.save(out / "shapes" / f"s{k:02d}.npy", cloud)
    for file, value in (("split.json", split), ("labels.json", labels)):
        if value is not None:
            data = value if isinstance(value, bytes) else json.dumps(value).encode()
            (out / file).write_bytes(data)
    return out


def npz(root, name, **arrays):
    np.savez(root / name, **arrays)
    return root / name


def npy(root, name, array, allow_pickle=False):
    np.save(root / name, array, allow_pickle=allow_pickle)
    return root / name


def predictions(root, name, n=4, **override):
    """A predictions .npz for the 4 test samples of :func:`base_dataset`, fields overridable."""
    arrays = {"points": np.zeros((n, 16, 3), np.float32)} | override
    return npz(root, name, **arrays)


def checkpoint(root, name, **fields):
    state = {"model": {}, "config": TrainConfig().to_dict(), "n_classes": 0, "input_size": 32} | fields
    save_checkpoint(root / name, state)
    return root / name


class Opaque:
    """Any class: torch.save pickles it, and torch.load(weights_only=True) must refuse it."""


def pickled_checkpoint(root):
    torch.save({"model": Opaque(), "config": {}}, root / "pickled.pt")
    return root / "pickled.pt"


def images(root, name, array):
    return npy(root, name, array)


def run_dir(root, record):
    """A training run directory holding only ``dataset.json`` (``record``: bytes or JSON data)."""
    out = root / "run"
    out.mkdir()
    data = record if isinstance(record, bytes) else json.dumps(record).encode()
    (out / "dataset.json").write_bytes(data)
    return out


def spec(root, edit=None, raw=None):
    """A valid one-study spec file, edited (a function of the dict) or replaced (bytes)."""
    from svrlens.experiments import preset_spec

    data = preset_spec("laptop").to_dict()
    if edit is not None:
        edit(data)
    path = root / "spec.json"
    path.write_bytes(raw if raw is not None else json.dumps(data).encode())
    return path


def results(root, data):
    out = root / "results"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(data))
    return out


def mesh_with_bad_faces(folder, k):
    """An OBJ whose first face points at vertex 100 of 8 (the PLY writer of trimesh would keep it)."""
    import trimesh

    box = trimesh.creation.box()
    faces = box.faces.copy()
    faces[0, 0] = 100
    trimesh.Trimesh(box.vertices, faces, process=False).export(folder / f"s{k:02d}.ply")
