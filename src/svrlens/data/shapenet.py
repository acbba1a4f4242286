"""Adapters for the ShapeNet-based layouts users already hold. Each returns an in-memory
:class:`Dataset` (images, clouds resampled to ``n_points`` with a seed, labels = category index,
splits, and sample names ``category/model/view`` in the manifest).

- **What3D** (Tatarchenko et al. 2019), viewer-centred: ``ROOT/classes.txt`` (category id first
  on each line), ``ROOT/lists/<cat>/{train,val,test}.txt`` (model ids),
  ``ROOT/points/<cat>/<model>/<view>.ply`` for views 0–4, and the renderings archive unpacked as
  ``ROOT/renderings/<cat>/<model>/<view>.png`` (mirroring ``points/``; pass ``renderings=`` if
  elsewhere). Predictions in What3D's own format (``.ply`` clouds in the ``points/`` structure)
  are read by ``svrlens diagnose`` as a predictions folder.
- **Occupancy Networks** (Mescheder et al. 2019): ``ROOT/<cat>/<model>/img_choy2016/NNN.jpg``,
  ``ROOT/<cat>/<model>/pointcloud.npz`` (array ``points``), ``ROOT/<cat>/{train,val,test}.lst``.
- **3D-R2N2 renderings + ShapeNetCore clouds**: ``RENDER/<cat>/<model>/rendering/NN.png``
  (137 × 137 RGBA) with clouds ``POINTS/<cat>/<model>/*.npy|.ply`` (the first file found), and
  an optional ``split.json`` {"train": ["cat/model", …], …} (else every model is train and test).

The real datasets are large: select with ``categories`` and ``max_models`` per category.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.errors import InputError
from svrlens.io import read_image, read_json, read_lines

from .clouds import DEFAULT_DENSE_POINTS, read_shapes
from .dataset import Dataset


def _finish(root, samples, splits, categories, n_points, dense_points, seed, layout) -> Dataset:
    """samples: list of (name, category, image path, cloud path)."""
    if not samples:
        raise InputError(f"no samples found in the {layout} layout", root)
    images = [read_image(image) for _, _, image, _ in samples]
    for (name, _, path, _), image in zip(samples, images):
        if image.shape != images[0].shape:
            raise InputError(
                f"expected every image to be {images[0].shape[1]}x{images[0].shape[0]}, "
                f"found {image.shape[1]}x{image.shape[0]}",
                path,
            )
    clouds, dense = read_shapes([cloud for _, _, _, cloud in samples], n_points, dense_points, seed)
    labels = np.asarray([categories.index(category) for _, category, _, _ in samples], np.int64)
    manifest = {
        "generator": f"adapter/{layout}",
        "names": [name for name, _, _, _ in samples],
        "categories": categories,
        "parameters": {"n_points": n_points, "dense_points": dense_points, "seed": seed},
        "seed": seed,
    }
    splits = {k: np.asarray(v, np.int64) for k, v in splits.items()}
    return Dataset(np.stack(images), clouds, None, labels, splits, manifest, Path(root), dense=dense)


def _lines(path: Path) -> list[str]:
    """The non-blank lines of a list file (any encoding BOM, any line ending: :func:`read_lines`)."""
    if not path.is_file():
        raise InputError("missing (required by this layout)", path)
    return read_lines(path)


def load_what3d(
    root,
    *,
    renderings=None,
    views=range(5),
    categories=None,
    max_models=None,
    n_points=1024,
    dense_points=DEFAULT_DENSE_POINTS,
    seed=0,
) -> Dataset:
    """What3D's data folder (see the module docstring) as a :class:`Dataset`."""
    root = Path(root)
    renderings = Path(renderings) if renderings else root / "renderings"
    all_categories = [line.split()[0] for line in _lines(root / "classes.txt")]
    chosen = [c for c in all_categories if categories is None or c in categories]
    samples, splits = [], {"train": [], "val": [], "test": []}
    for category in chosen:
        for split in splits:
            list_file = root / "lists" / category / f"{split}.txt"
            if not list_file.exists():
                continue
            for model in _lines(list_file)[:max_models]:
                for view in views:
                    cloud = root / "points" / category / model / f"{view}.ply"
                    image = renderings / category / model / f"{view}.png"
                    for path in (cloud, image):
                        if not path.is_file():
                            raise InputError("missing (listed in lists/)", path)
                    splits[split].append(len(samples))
                    samples.append((f"{category}/{model}/{view}", category, image, cloud))
    return _finish(root, samples, splits, chosen, n_points, dense_points, seed, "What3D")


def load_onet(
    root,
    *,
    view=0,
    categories=None,
    max_models=None,
    n_points=1024,
    dense_points=DEFAULT_DENSE_POINTS,
    seed=0,
) -> Dataset:
    """Occupancy Networks' ShapeNet folder (see the module docstring), one image per model."""
    root = Path(root)
    chosen = sorted(
        p.name for p in root.iterdir() if p.is_dir() and (categories is None or p.name in categories)
    )
    samples, splits = [], {"train": [], "val": [], "test": []}
    for category in chosen:
        for split in splits:
            list_file = root / category / f"{split}.lst"
            if not list_file.exists():
                continue
            for model in _lines(list_file)[:max_models]:
                folder = root / category / model
                image = folder / "img_choy2016" / f"{view:03d}.jpg"
                cloud = folder / "pointcloud.npz"
                for path in (image, cloud):
                    if not path.is_file():
                        raise InputError(f"missing (listed in {split}.lst)", path)
                splits[split].append(len(samples))
                samples.append((f"{category}/{model}/{view}", category, image, cloud))
    return _finish(root, samples, splits, chosen, n_points, dense_points, seed, "Occupancy Networks")


def load_r2n2(
    renderings,
    points,
    *,
    view=0,
    split_file=None,
    categories=None,
    max_models=None,
    n_points=1024,
    dense_points=DEFAULT_DENSE_POINTS,
    seed=0,
) -> Dataset:
    """3D-R2N2 renderings with ShapeNetCore point clouds (see the module docstring)."""
    renderings, points = Path(renderings), Path(points)
    chosen = sorted(
        p.name for p in renderings.iterdir() if p.is_dir() and (categories is None or p.name in categories)
    )
    samples = []
    for category in chosen:
        for model_dir in sorted(p for p in (renderings / category).iterdir() if p.is_dir())[:max_models]:
            image = model_dir / "rendering" / f"{view:02d}.png"
            clouds = sorted((points / category / model_dir.name).glob("*.npy")) + sorted(
                (points / category / model_dir.name).glob("*.ply")
            )
            if not image.is_file():
                raise InputError("missing rendering", image)
            if not clouds:
                raise InputError(
                    "no point cloud (*.npy or *.ply) for this model", points / category / model_dir.name
                )
            samples.append((f"{category}/{model_dir.name}/{view}", category, image, clouds[0]))
    everything = list(range(len(samples)))
    splits = {"train": everything, "test": everything}
    if split_file is not None:
        declared = read_json(split_file)
        if not isinstance(declared, dict) or not all(
            isinstance(v, list) and all(isinstance(m, str) for m in v) for v in declared.values()
        ):
            raise InputError('expected an object {"train": ["cat/model", …], …}', split_file)
        position = {name.rsplit("/", 1)[0]: k for k, (name, _, _, _) in enumerate(samples)}
        splits = {k: [position[m] for m in v if m in position] for k, v in declared.items()}
    return _finish(renderings, samples, splits, chosen, n_points, dense_points, seed, "3D-R2N2")


def detect_layout(path) -> str | None:
    """'what3d', 'onet' or None, from the files present."""
    path = Path(path)
    if (path / "classes.txt").is_file() and (path / "lists").is_dir() and (path / "points").is_dir():
        return "what3d"
    if any(path.glob("*/*.lst")) and any(path.glob("*/*/img_choy2016")):
        return "onet"
    return None
