"""The inputs of ``svrlens tendency``: its options, and distance matrices from files (a matrix,
clouds, images, or a folder of them), validated with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import numpy as np

from svrlens.errors import InputError
from svrlens.io import files_with_suffix, load_npy, load_png_folder, numeric_array
from svrlens.options import Int, Seed, option, validated

from ._checks import check_distances, check_labels


@validated
class TendencyOptions:
    """The settings of ``svrlens tendency`` (checked when built; see :mod:`svrlens.options`)."""

    method: Annotated[
        Literal["adaptive-ap", "ap", "labels", "dispersion"],
        option(
            "how clusters are found (labels: the --labels file's; dispersion: the k-medoids dispersion "
            "score instead of the silhouette)"
        ),
    ] = "adaptive-ap"
    k: Annotated[
        tuple[Annotated[Int, option("K", ge=1, le=10**5)], ...],
        option("with --method dispersion: K of the k-medoids; several give a sweep", min_length=1),
    ] = (2,)
    seed: Annotated[Seed, option("seed of the clustering and the bootstrap")] = 0


def labels_from_path(path) -> np.ndarray:
    """Labels (N,) int64 from an ``.npy`` file: integers, or floats with no fraction; checked
    before any distance is computed (see :func:`labels_for` for the count). Errors name the file."""
    labels = numeric_array(load_npy(path), path, "labels", kinds="iuf")
    return labels_for(labels, len(labels) if labels.ndim == 1 else -1, path)


def labels_for(labels: np.ndarray, n_samples: int, path) -> np.ndarray:
    """``labels`` checked to be one integer label per sample (``n_samples``); errors name ``path``."""
    try:
        return check_labels(labels, n_samples, name="labels")
    except ValueError as error:
        raise InputError(str(error), path) from None


def _clouds_from_folder(files) -> np.ndarray:
    clouds = [numeric_array(load_npy(f), f, "cloud") for f in files]
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


def _chamfer_matrix(clouds: np.ndarray, progress: bool) -> np.ndarray:
    # Imported here, not at the top: geometry imports torch (~1.6 s), which a saved matrix does not need.
    from svrlens.geometry import pairwise_chamfer

    return pairwise_chamfer(clouds, progress=progress)


def _l1_matrix(images: np.ndarray) -> np.ndarray:
    from svrlens.geometry import pairwise_l1

    return pairwise_l1(images)


def distances_from_path(path, *, progress: bool = False) -> tuple[np.ndarray, str]:
    """Read ``path`` and return (distance matrix, what it was).

    - ``.npy`` of shape (N, N): a precomputed distance matrix, validated.
    - ``.npy`` of shape (N, P, 3): point clouds → Chamfer matrix (eq. 2).
    - ``.npy`` of shape (N, H, W, C): images → mean-absolute-difference matrix.
    - a folder of ``*.png`` images, or of ``*.npy`` clouds of shape (P, 3) each.
    """
    path = Path(path)
    if path.is_dir():
        pngs = files_with_suffix(path, ".png")
        npys = files_with_suffix(path, ".npy")
        if pngs:
            images, _ = load_png_folder(path)
            return _l1_matrix(images), f"{len(pngs)} images (ℓ1)"
        if npys:
            return _wrap(
                path, lambda: _chamfer_matrix(_clouds_from_folder(npys), progress)
            ), f"{len(npys)} point clouds (Chamfer)"
        raise InputError("expected *.png images or *.npy point clouds in the folder, found neither", path)
    array = load_npy(path)
    if array.ndim == 4 and array.dtype != np.uint8:
        array = numeric_array(array, path, "images", kinds="f")
    elif array.ndim != 4:
        array = numeric_array(array, path, "array")
    if array.ndim == 2 and array.shape[0] == array.shape[1]:
        return _wrap(path, lambda: check_distances(array)), "distance matrix"
    if array.ndim == 3 and array.shape[-1] == 3:
        return _wrap(
            path, lambda: _chamfer_matrix(array, progress)
        ), f"{array.shape[0]} point clouds (Chamfer)"
    if array.ndim == 4:
        return _wrap(path, lambda: _l1_matrix(array)), f"{array.shape[0]} images (ℓ1)"
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
