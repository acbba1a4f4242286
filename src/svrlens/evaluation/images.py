"""Distances between training images: the paper's pixel ℓ1 (default), or ℓ1 between features.

The seed paper compares images by their mean absolute pixel difference (sec. 2.3 footnote); its
successor (Zhou et al. 2021) by the mean squared difference of VGG-16 relu3_3 features. svrlens
keeps pixel ℓ1 as the default and takes any feature extractor the user supplies — a
``torch.nn.Module`` or a plain callable mapping uint8 images (B, H, W, 3) to features (B, F) —
then compares feature vectors by their mean absolute difference (the same ℓ1 convention as the
pixels). No pretrained weights ship with svrlens (none can be downloaded where it was built):
what the features mean is the user's; svrlens only guarantees the plumbing (tests).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from svrlens.geometry import pairwise_l1

PIXEL_L1 = "pixel ℓ1 (mean absolute difference of the [0, 1] pixel values)"


def extract_features(images, features: Callable, *, batch_size: int = 64) -> np.ndarray:
    """Features (N, F) float64 of uint8 images (N, H, W, 3), in batches of ``batch_size``.

    A ``torch.nn.Module`` is put in eval mode and called under ``torch.no_grad()`` with a uint8
    tensor (B, H, W, 3) on the device of its first parameter (CPU when it has none); any other
    callable is called with the numpy batch. The output may be a tensor or an array.

    Raises
    ------
    ValueError
        Images that are not uint8 (N, H, W, 3), or features that are not finite (B, F) arrays
        for a batch of B images (the message names ``image_features``).
    """
    import torch

    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or len(images) == 0:
        raise ValueError(f"images: expected uint8 (N, H, W, 3), found {images.dtype} {images.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected an integer ≥ 1, found {batch_size!r}")
    module = features if isinstance(features, torch.nn.Module) else None
    if module is None and not callable(features):
        raise ValueError(f"image_features: expected a torch module or a callable, found {type(features)}")
    if module is not None:
        module.eval()
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            if module is not None:
                value = module(torch.from_numpy(np.ascontiguousarray(batch)).to(device))
            else:
                value = features(batch)
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            value = np.asarray(value, np.float64)
            if value.ndim != 2 or len(value) != len(batch) or value.shape[1] == 0:
                raise ValueError(
                    f"image_features: expected features of shape ({len(batch)}, F) for {len(batch)} images, "
                    f"found {value.shape}"
                )
            if out and value.shape[1] != out[0].shape[1]:
                raise ValueError(
                    f"image_features: expected {out[0].shape[1]} features per image in every batch, "
                    f"found {value.shape[1]}"
                )
            if not np.isfinite(value).all():
                raise ValueError("image_features: expected finite features, found NaN or inf")
            out.append(value)
    return np.concatenate(out)


def image_distances(images, features: Callable | None = None, *, batch_size: int = 64):
    """(distance matrix (N, N) float64, what it measures) of uint8 images (N, H, W, 3).

    ``features=None``: the paper's pixel ℓ1 (:func:`svrlens.geometry.pairwise_l1`, values in
    [0, 1]). Otherwise the mean absolute difference between the (N, F) feature vectors of
    :func:`extract_features`: ``d(u, v) = (1/F) Σ_f |φ_f(u) − φ_f(v)|`` (symmetric, zero
    diagonal, in the features' units).
    """
    if features is None:
        return pairwise_l1(images), PIXEL_L1
    from scipy.spatial.distance import cdist

    vectors = extract_features(images, features, batch_size=batch_size)
    distances = cdist(vectors, vectors, "cityblock") / vectors.shape[1]
    np.fill_diagonal(distances, 0.0)
    name = getattr(features, "__name__", type(features).__name__)
    return distances, f"feature ℓ1 (mean absolute difference of {vectors.shape[1]} features of {name})"
