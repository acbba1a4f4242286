"""Validation of precomputed distance matrices and labels (once, at the public boundary)."""

from __future__ import annotations

import numpy as np
import torch


def check_distances(distances, *, name: str = "distances", atol: float = 1e-6):
    """Validate a symmetric, non-negative, finite distance matrix with a zero diagonal.

    Returns a numpy array (no copy for numpy input) or a torch tensor (kept on its device).
    Symmetry is checked to ``atol`` plus 1e-5 of the largest distance, so float32 matrices
    built from the two directions separately still pass.
    """
    is_tensor = isinstance(distances, torch.Tensor)
    if not is_tensor and not isinstance(distances, np.ndarray):
        raise ValueError(
            f"{name}: expected a numpy.ndarray or torch.Tensor, found {type(distances).__name__}"
        )
    if distances.ndim != 2 or distances.shape[0] != distances.shape[1]:
        raise ValueError(f"{name}: expected a square (N, N) matrix, found shape {tuple(distances.shape)}")
    if distances.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one sample, found an empty matrix")
    d = distances.detach() if is_tensor else distances
    if is_tensor and not d.is_floating_point() or not is_tensor and not np.issubdtype(d.dtype, np.number):
        raise ValueError(f"{name}: expected real numbers, found dtype {d.dtype}")
    xp_isfinite = torch.isfinite if is_tensor else np.isfinite
    if not bool(xp_isfinite(d).all()):
        raise ValueError(f"{name}: expected finite distances, found NaN or inf")
    if bool((d < 0).any()):
        raise ValueError(f"{name}: expected non-negative distances, found minimum {float(d.min()):.3g}")
    diagonal = d.diagonal()
    if bool((diagonal != 0).any()):
        raise ValueError(
            f"{name}: expected a zero diagonal, found {int((diagonal != 0).sum())} non-zero entries "
            f"(max {float(abs(diagonal).max()):.3g})"
        )
    scale = float(d.max()) if d.shape[0] > 1 else 0.0
    asym = float((d - d.T).abs().max()) if is_tensor else float(np.abs(d - d.T).max())
    if asym > atol + 1e-5 * scale:
        raise ValueError(f"{name}: expected a symmetric matrix, found |D - D.T| up to {asym:.3g}")
    return distances


def check_labels(labels, n_samples: int, *, name: str = "labels") -> np.ndarray:
    """Validate one integer cluster label per sample; return them as an int64 numpy array."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(f"{name}: expected shape ({n_samples},), found {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        if (
            np.issubdtype(labels.dtype, np.floating)
            and np.all(np.isfinite(labels))
            and np.all(labels == np.round(labels))
        ):
            labels = labels.astype(np.int64)
        else:
            raise ValueError(f"{name}: expected integer cluster labels, found dtype {labels.dtype}")
    return labels.astype(np.int64, copy=False)
