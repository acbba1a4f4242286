"""Validation at the public boundary of ``svrlens.geometry``.

Every check raises ``ValueError`` whose message says what was expected and what was found,
so callers (and the CLI) can show it as one line.
"""

from __future__ import annotations

import numpy as np
import torch

_FLOAT_DTYPES = (torch.float32, torch.float64)


def as_tensor(value, name: str) -> torch.Tensor:
    """Return ``value`` as a torch tensor without copying when possible."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    raise ValueError(f"{name}: expected a torch.Tensor or numpy.ndarray, found {type(value).__name__}")


def check_clouds(value, name: str, lengths=None, *, allow_grad: bool = True):
    """Validate a padded batch of point clouds.

    Parameters
    ----------
    value : Tensor or ndarray of shape (B, P, 3)
        Floating point coordinates; float16/bfloat16 are promoted to float32.
    name : str
        Argument name used in error messages.
    lengths : Tensor or ndarray of shape (B,), optional
        Number of valid points per cloud (1 ≤ length ≤ P); ``None`` means all P are valid.

    Returns
    -------
    clouds : Tensor of shape (B, P, 3)
    lengths : LongTensor of shape (B,) on the clouds' device, or None
    """
    x = as_tensor(value, name)
    if x.dim() != 3 or x.shape[-1] != 3:
        raise ValueError(f"{name}: expected shape (B, P, 3), found {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{name}: expected a floating point dtype, found {x.dtype}")
    if x.dtype not in _FLOAT_DTYPES:
        x = x.float()
    batch, n_points = x.shape[0], x.shape[1]
    if batch == 0:
        raise ValueError(f"{name}: expected at least one cloud, found an empty batch (B=0)")
    if n_points == 0:
        raise ValueError(f"{name}: expected non-empty clouds, found P=0 points")
    if lengths is not None:
        n = as_tensor(lengths, f"{name}_lengths")
        if n.dim() != 1 or n.shape[0] != batch:
            raise ValueError(f"{name}_lengths: expected shape ({batch},), found {tuple(n.shape)}")
        if n.is_floating_point() or n.is_complex() or n.dtype == torch.bool:
            raise ValueError(f"{name}_lengths: expected an integer dtype, found {n.dtype}")
        n = n.to(device=x.device, dtype=torch.int64)
        low, high = int(n.min()), int(n.max())
        if low < 1:
            raise ValueError(
                f"{name}_lengths: expected every cloud to have ≥ 1 point, found an empty cloud (length {low})"
            )
        if high > n_points:
            raise ValueError(f"{name}_lengths: expected lengths ≤ P={n_points}, found {high}")
        valid = torch.arange(n_points, device=x.device)[None, :] < n[:, None]  # (B, P)
        finite = torch.isfinite(x.detach()).all(-1)[valid].all()
        lengths = n
    else:
        finite = torch.isfinite(x.detach()).all()
    if not bool(finite):
        raise ValueError(f"{name}: expected finite coordinates, found NaN or inf")
    return x, lengths


def check_pair(x, y, x_lengths=None, y_lengths=None):
    """Validate a reconstruction batch ``x`` and a reference batch ``y`` together."""
    x, x_lengths = check_clouds(x, "x", x_lengths)
    y, y_lengths = check_clouds(y, "y", y_lengths)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y: expected the same batch size, found {x.shape[0]} and {y.shape[0]}")
    if x.device != y.device:
        raise ValueError(f"x and y: expected the same device, found {x.device} and {y.device}")
    if x.dtype != y.dtype:
        dtype = torch.promote_types(x.dtype, y.dtype)
        x, y = x.to(dtype), y.to(dtype)
    return x, y, x_lengths, y_lengths


def check_thresholds(threshold, dtype=torch.float64) -> tuple[torch.Tensor, bool]:
    """Return the F-score thresholds as a 1-D CPU tensor and whether a scalar was given."""
    scalar = isinstance(threshold, (int, float, np.floating, np.integer)) or (
        isinstance(threshold, (torch.Tensor, np.ndarray)) and threshold.ndim == 0
    )
    t = torch.as_tensor(threshold, dtype=dtype).detach().cpu().reshape(-1)
    if not scalar and (np.ndim(threshold) != 1 or t.numel() == 0):
        raise ValueError(
            f"threshold: expected a float or a non-empty 1-D sequence, "
            f"found shape {tuple(np.shape(threshold))}"
        )
    if not bool(torch.isfinite(t).all()) or bool((t < 0).any()):
        raise ValueError(f"threshold: expected finite values ≥ 0, found {t.tolist()}")
    return t, scalar


def check_images(value, name: str) -> np.ndarray:
    """Validate images of shape (N, H, W, C), uint8 or floating point; return a numpy array."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name}: expected a numpy.ndarray or torch.Tensor, found {type(value).__name__}")
    if value.ndim != 4:
        raise ValueError(f"{name}: expected shape (N, H, W, C), found {value.shape}")
    if value.shape[0] == 0 or 0 in value.shape[1:]:
        raise ValueError(f"{name}: expected non-empty images, found shape {value.shape}")
    if value.dtype != np.uint8 and not np.issubdtype(value.dtype, np.floating):
        raise ValueError(f"{name}: expected uint8 or floating point pixels, found {value.dtype}")
    if value.dtype != np.uint8 and not np.isfinite(value).all():
        raise ValueError(f"{name}: expected finite pixel values, found NaN or inf")
    return value
