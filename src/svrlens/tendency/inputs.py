"""Distance matrices from files: a matrix, clouds, images, or a folder of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.errors import InputError
from svrlens.geometry import pairwise_chamfer, pairwise_l1
from svrlens.io import load_npy, load_png_folder

from ._checks import check_distances


def _clouds_from_folder(files) -> np.ndarray:
    clouds = [load_npy(f) for f in files]
    for file, cloud in zip(files, clouds):
        if cloud.ndim != 2 or cloud.shape[1] != 3:
            raise InputError(f"expected one cloud of shape (P, 3), found {cloud.shape}", file)
        if cloud.shape[0] != clouds[0].shape[0]:
            raise InputError(
                f"ragged clouds: expected {clouds[0].shape[0]} points like {files[0].name}, "
                f"found {cloud.shape[0]}",
                file,
            )
    return np.stack(clouds).astype(np.float32, copy=False)


def distances_from_path(path, *, progress: bool = False) -> tuple[np.ndarray, str]:
    """Read ``path`` and return (distance matrix, what it was).

    - ``.npy`` of shape (N, N): a precomputed distance matrix, validated.
    - ``.npy`` of shape (N, P, 3): point clouds → Chamfer matrix (eq. 2).
    - ``.npy`` of shape (N, H, W, C): images → mean-absolute-difference matrix.
    - a folder of ``*.png`` images, or of ``*.npy`` clouds of shape (P, 3) each.
    """
    path = Path(path)
    if path.is_dir():
        pngs = sorted(path.glob("*.png"))
        npys = sorted(path.glob("*.npy"))
        if pngs:
            images, _ = load_png_folder(path)
            return pairwise_l1(images), f"{len(pngs)} images (ℓ1)"
        if npys:
            return _wrap(
                path, lambda: pairwise_chamfer(_clouds_from_folder(npys), progress=progress)
            ), f"{len(npys)} point clouds (Chamfer)"
        raise InputError("expected *.png images or *.npy point clouds in the folder, found neither", path)
    array = load_npy(path)
    if array.ndim == 2 and array.shape[0] == array.shape[1]:
        return _wrap(path, lambda: check_distances(array)), "distance matrix"
    if array.ndim == 3 and array.shape[-1] == 3:
        return _wrap(
            path, lambda: pairwise_chamfer(array, progress=progress)
        ), f"{array.shape[0]} point clouds (Chamfer)"
    if array.ndim == 4:
        return _wrap(path, lambda: pairwise_l1(array)), f"{array.shape[0]} images (ℓ1)"
    raise InputError(
        "expected a square distance matrix, clouds (N, P, 3) or images (N, H, W, C), "
        f"found shape {array.shape}",
        path,
    )


def _wrap(path, compute):
    """Run ``compute`` and turn its ValueError into an InputError naming ``path``."""
    try:
        return compute()
    except InputError:
        raise
    except ValueError as error:
        raise InputError(str(error), path) from None
