"""``svrlens data inspect``: counts, splits and the clustering tendency of a dataset's training set.

It combines two peer stages (``data`` reads the dataset, ``tendency`` measures it), so it lives
above both: a stage never imports its peers (see ``tests/test_layers.py``).
"""

from __future__ import annotations

from svrlens.data import load_dataset
from svrlens.geometry import pairwise_chamfer, pairwise_l1
from svrlens.tendency import clustering_tendency


def inspect_dataset(path, *, split: str = "train", progress: bool = False, random_state: int = 0) -> dict:
    """Summary of a dataset directory, with the tendencies of sec. 2.3 on one split.

    Returns a dict with ``samples``, ``points``, ``image_size``, ``splits`` (sizes),
    ``generator``, and ``image_tendency`` (ℓ1) / ``shape_tendency`` (Chamfer), each a
    :meth:`TendencyResult.to_dict` without the per-sample labels.
    """
    dataset = load_dataset(path)
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
