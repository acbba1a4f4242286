"""``svrlens data inspect`` (counts, splits and the clustering tendency of a dataset's training set),
and the inputs of ``svrlens tendency`` that are datasets or mesh collections.

It combines two peer stages (``data`` reads the dataset, ``tendency`` measures it), so it lives
above both: a stage never imports its peers (see ``tests/test_layers.py``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from svrlens.data.folder import open_dataset
from svrlens.data.mesh_samples import sample_collection
from svrlens.errors import InputError
from svrlens.tendency import clustering_tendency
from svrlens.tendency.inputs import distances_from_path


def inspect_dataset(path, *, split: str = "train", progress: bool = False, random_state: int = 0) -> dict:
    """Summary of a dataset (a svrlens dataset directory or a user folder, see
    :func:`svrlens.data.folder.open_dataset`), with the tendencies of sec. 2.3 on one split.

    Returns a dict with ``samples``, ``points``, ``image_size``, ``splits`` (sizes),
    ``generator``, and ``image_tendency`` (ℓ1) / ``shape_tendency`` (Chamfer), each a
    :meth:`TendencyResult.to_dict` without the per-sample labels.
    """
    from svrlens.geometry import pairwise_chamfer, pairwise_l1

    dataset = open_dataset(path)
    part = dataset.subset(split)
    summary = {
        "path": str(path),
        "generator": dataset.manifest.get("generator"),
        "samples": len(dataset),
        "points": int(dataset.points.shape[1]),
        "image_size": list(dataset.images.shape[1:3]),
        "splits": {name: int(len(index)) for name, index in dataset.splits.items()},
        "split_inspected": split,
    }
    for key, distances in (
        ("image_tendency", lambda: pairwise_l1(part.images)),
        ("shape_tendency", lambda: pairwise_chamfer(part.points, progress=progress)),
    ):
        result = clustering_tendency(distances(), random_state=random_state).to_dict()
        result.pop("labels")
        summary[key] = result
    return summary


def _is_dataset(path: Path) -> bool:
    from svrlens.data.shapenet import detect_layout

    return (path / "manifest.json").is_file() or (path / "images").is_dir() or detect_layout(path) is not None


def _is_mesh_collection(path: Path) -> bool:
    from svrlens.data.layouts import detect_mesh_layout

    if any(path.glob("*.png")) or any(path.glob("*.npy")):
        return False
    try:
        detect_mesh_layout(path)
    except InputError:
        return False
    return True


def distances_of(path, *, progress: bool = False) -> tuple[np.ndarray, str, np.ndarray | None]:
    """(distance matrix, what it was, labels or None) for ``svrlens tendency PATH``:

    - a dataset (svrlens directory, user folder, What3D / ONet folder): the Chamfer matrix (eq. 2)
      of every sample's training cloud, with the dataset's labels;
    - a mesh collection (:mod:`svrlens.data.layouts`): each mesh sampled as ``data build`` does
      (1024 points, unit box, the layout's up axis, seed 0), with its category as label; meshes
      that cannot be read are skipped with a warning naming them;
    - anything else: :func:`svrlens.tendency.inputs.distances_from_path` (a matrix, clouds,
      images, a folder of PNGs or of ``.npy`` clouds), without labels.
    """
    path = Path(path)
    if path.is_dir() and _is_dataset(path):
        # Imported here, not at the top: geometry imports torch (~1.6 s); a saved matrix needs neither.
        from svrlens.geometry import pairwise_chamfer

        data = open_dataset(path)
        labels = None if data.labels is None else np.asarray(data.labels, np.int64)
        kind = f"dataset, {len(data)} training clouds of {data.points.shape[1]} points (Chamfer)"
        return pairwise_chamfer(np.array(data.points), progress=progress), kind, labels
    if path.is_dir() and _is_mesh_collection(path):
        from svrlens.geometry import pairwise_chamfer

        found = sample_collection(path, progress=progress)
        for name, reason in found["skipped"]:
            warnings.warn(f"{name}: skipped, {reason}", stacklevel=2)
        clouds = found["clouds"]
        kind = (
            f"{len(clouds)} meshes of the {found['layout']} layout, {clouds.shape[1]} points each, "
            f"unit box, {found['up']} up (Chamfer)"
        )
        return pairwise_chamfer(clouds, progress=progress), kind, found["labels"]
    distances, kind = distances_from_path(path, progress=progress)
    return distances, kind, None
