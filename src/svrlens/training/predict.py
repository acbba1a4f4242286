"""Prediction with a trained model: images in, point clouds out (``svrlens predict``).

Images come from a dataset directory, a folder of PNGs (any case of suffix) or an ``.npy`` of
uint8 (N, H, W, 3); checkpoints are read without unpickling and their stored configuration is
validated; predictions are written atomically to an ``.npz`` (no pickled members).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from svrlens.errors import InputError
from svrlens.io import atomic_write
from svrlens.models import ReconstructionNet, build_model

from .checkpoint import load_checkpoint
from .config import TrainConfig

# ImageNet statistics, so that torchvision / ImageNet encoder weights see what they expect.
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def to_input(images, image_size: int | None, device) -> torch.Tensor:
    """uint8 (B, H, W, 3) → normalised float (B, 3, S, S) on ``device`` (bilinear, antialiased resize)."""
    x = (
        torch.from_numpy(np.array(images)).to(device).permute(0, 3, 1, 2).float().div_(255)
    )  # a copy: memory maps are read-only
    if image_size is not None and x.shape[-1] != image_size:
        x = F.interpolate(
            x, size=(image_size, image_size), mode="bilinear", antialias=True, align_corners=False
        )
    return (x - _MEAN.to(device)) / _STD.to(device)


@torch.no_grad()
def predict(model: ReconstructionNet, images, *, image_size=None, batch_size=64, device=None):
    """Points (N, P, 3) and codewords (N, 512) as float32 numpy arrays, in eval mode."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    points, codes = [], []
    for start in range(0, len(images), batch_size):
        p, c = model(
            to_input(images[start : start + batch_size], image_size, device),
            grid_size=model.config.eval_grid_size,
        )
        points.append(p.float().cpu().numpy())
        codes.append(c.float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(points), np.concatenate(codes)


def save_predictions(path, points, codewords, indices, names=None) -> Path:
    """Write ``points`` (N, P, 3), ``codewords`` (N, D), ``indices`` (N,) and optional ``names``
    (N,) (a unicode array, readable without pickles) to an .npz, atomically."""
    extra = {} if names is None else {"names": np.asarray(names, dtype=str)}
    arrays = dict(
        points=np.asarray(points, np.float32),
        codewords=np.asarray(codewords, np.float32),
        indices=np.asarray(indices, np.int64),
        **extra,
    )
    return atomic_write(path, lambda handle: np.savez(handle, **arrays))


def _checked_state(state: dict, path) -> tuple[TrainConfig, int, int]:
    """(config, n_classes, input size) of a checkpoint, each field validated; errors name the file."""
    try:
        config = TrainConfig.from_dict(state["config"], "config.")
    except ValueError as error:
        raise InputError(f"a malformed stored configuration ({error})", path) from None
    n_classes, input_size = state.get("n_classes", 0), state.get("input_size")
    for name, value, low in (("n_classes", n_classes, 0), ("input_size", input_size, 8)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
            raise InputError(f"{name}: expected an integer ≥ {low}, found {value!r}", path)
    model = state["model"]
    if not isinstance(model, dict) or not all(isinstance(v, torch.Tensor) for v in model.values()):
        raise InputError("model: expected a mapping of names to tensors (a state dict)", path)
    return config, n_classes, int(input_size or config.image_size or 128)


def load_model(checkpoint) -> tuple[ReconstructionNet, TrainConfig, int]:
    """Model (eval mode, CPU), training config and input size (pixels) from ``best.pt`` / ``last.pt``.

    Raises
    ------
    InputError
        An unreadable checkpoint, a malformed stored configuration or field, or weights that do
        not fit the configuration (the message names the file).
    """
    state = load_checkpoint(checkpoint)
    config, n_classes, input_size = _checked_state(state, checkpoint)
    model = build_model(replace(config.model, n_classes=n_classes))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise InputError(
            f"weights do not fit the saved configuration ({' '.join(str(error).split())[:200]})", checkpoint
        ) from None
    return model.eval(), config, input_size


def predict_images(checkpoint, images: np.ndarray, *, batch_size: int = 64):
    """Run a checkpoint on uint8 images (N, H, W, 3), N ≥ 1, of any size; returns (points (N, P, 3),
    codewords (N, 512)) float32.

    Images whose size differs from the training input are resized (bilinear, antialiased) to it,
    with a warning: the model only ever saw that size.

    Raises
    ------
    InputError
        No images, images that are not uint8 (N, H, W, 3), or a bad checkpoint.
    ValueError
        ``batch_size`` < 1.
    """
    import warnings

    if batch_size < 1:
        raise ValueError(f"batch_size: expected ≥ 1, found {batch_size}")
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise InputError(f"expected uint8 images (N, H, W, 3), found {images.dtype} {images.shape}")
    if len(images) == 0 or 0 in images.shape[1:3]:
        raise InputError(f"expected at least one non-empty image, found shape {images.shape}")
    model, _, input_size = load_model(checkpoint)
    if images.shape[1:3] != (input_size, input_size):
        warnings.warn(
            f"images are {images.shape[2]}x{images.shape[1]}; "
            f"resizing to the model's {input_size}x{input_size}",
            stacklevel=2,
        )
    return predict(model, images, image_size=input_size, batch_size=batch_size, device=torch.device("cpu"))


def images_from_path(path) -> tuple[np.ndarray, np.ndarray, list | None]:
    """(images uint8 (N, H, W, 3), indices (N,), names or None) from a dataset directory or user
    folder (all its samples; a user folder's names), a folder of PNGs (names are the stems; ``.PNG``
    too) or an ``.npy`` array.

    Raises
    ------
    InputError
        Nothing to predict, or an array of another dtype or shape (the message names the file).
    """
    from svrlens.data.folder import open_dataset
    from svrlens.data.shapenet import detect_layout
    from svrlens.io import load_npy, load_png_folder

    path = Path(path)
    if path.is_dir() and (
        (path / "manifest.json").exists() or (path / "images").is_dir() or detect_layout(path)
    ):
        data = open_dataset(path)  # a svrlens dataset (matched by index) or a user folder (by name)
        names = None if (path / "manifest.json").exists() else data.manifest.get("names")
        return np.asarray(data.images), np.arange(len(data)), names
    if path.is_dir():
        images, names = load_png_folder(path)
        if not names:
            raise InputError("expected *.png images, found none", path)
        return images, np.arange(len(names)), names
    images = load_npy(path)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise InputError(f"expected uint8 images (N, H, W, 3), found {images.dtype} {images.shape}", path)
    if len(images) == 0 or 0 in images.shape[1:3]:
        raise InputError(f"expected at least one non-empty image, found shape {images.shape}", path)
    return images, np.arange(len(images)), None
