"""A dataset written out as a user folder (:mod:`svrlens.data.folder`), ready for other tools.

::

    OUT/images/shape_00007.png    the sample's image
    OUT/shapes/shape_00007.npz    its training cloud ('points') and dense evaluation cloud ('dense')
    OUT/meshes/shape_00007.ply    its mesh (synthetic base datasets only: made from the morph weights)
    OUT/split.json                {"train": [...], "val": [...], "test": [...]} of the names exported
    OUT/labels.json               {name: label} where the dataset has labels

Files are named by the sample's index in the dataset (``shape_<index:05d>``), so meshes pair with
images by name and an export of a few indices names them as the whole dataset would. The clouds
are the dataset's own, so reading the folder back gives the same arrays and the same diagnosis.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from svrlens.errors import InputError
from svrlens.io import published_directory

EXPORTED = ("images", "shapes", "meshes", "split.json", "labels.json")


def sample_name(index: int) -> str:
    """The file stem of dataset sample ``index``: ``shape_00007``."""
    return f"shape_{index:05d}"


def export_folder(dataset, out_dir, *, indices=None, file_format: str = "ply", force: bool = False) -> Path:
    """Write samples ``indices`` (default: all) of a svrlens dataset as a user folder at ``out_dir``
    (see the module docstring), whole or not at all; returns ``out_dir``.

    Raises
    ------
    InputError
        Indices out of range (named ``--indices``); ``out_dir`` already holding an export without
        ``force``, or holding files this command did not write (named); an unreadable dataset.
    """
    from PIL import Image

    from .dataset import load_dataset

    data = load_dataset(dataset)
    chosen = np.arange(len(data)) if indices is None else np.unique(np.asarray(indices, np.int64))
    if chosen.size and (chosen.min() < 0 or chosen.max() >= len(data)):
        raise InputError(
            f"--indices: expected values in [0, {len(data)}), found {chosen.min()}..{chosen.max()}", dataset
        )
    out_dir = Path(out_dir)
    if out_dir.is_dir() and not force and any((out_dir / name).exists() for name in EXPORTED):
        raise InputError("already holds an export (--force replaces it)", out_dir)
    config = _synth_config(data, dataset)
    names = [sample_name(int(i)) for i in chosen]
    with published_directory(out_dir, owned=EXPORTED) as staging:
        for sub in ("images", "shapes"):
            (staging / sub).mkdir()
        for name, i in zip(names, chosen):
            Image.fromarray(np.asarray(data.images[i])).save(staging / "images" / f"{name}.png")
            clouds = {"points": np.asarray(data.points[i])}
            if data.dense is not None:
                clouds["dense"] = np.asarray(data.dense[i])
            np.savez(staging / "shapes" / f"{name}.npz", **clouds)
        if config is not None:
            from .synth import export_meshes

            meshes = staging / "meshes"
            written = export_meshes(config, np.asarray(data.morph)[chosen], meshes, file_format=file_format)
            for name, path in zip(names, written):
                path.rename(path.with_name(f"{name}{path.suffix}"))
        position = {int(i): name for i, name in zip(chosen, names)}
        split = {
            split: [position[int(i)] for i in members if int(i) in position]
            for split, members in data.splits.items()
        }
        (staging / "split.json").write_text(json.dumps(split, indent=1) + "\n")
        if data.labels is not None:
            labels = {name: int(data.labels[i]) for name, i in zip(names, chosen)}
            (staging / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    return out_dir


def _synth_config(data, dataset):
    """The :class:`SynthConfig` of a synthetic base dataset (its meshes can be rebuilt), else None."""
    from .synth import SynthConfig

    if data.morph is None or not str(data.manifest.get("generator", "")).startswith("svrlens.data.synth"):
        return None
    parameters = data.manifest.get("parameters") or {}
    known = {k: v for k, v in parameters.items() if k in SynthConfig.__dataclass_fields__}
    try:
        return SynthConfig(**known)
    except ValueError as error:
        raise InputError(f"manifest.json parameters: {error}", dataset) from None
