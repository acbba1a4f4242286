"""Nearest-neighbour search between batched clouds, on one CPU/CUDA dispatch.

Two entry points, both under ``torch.no_grad`` semantics (they return plain tensors):

- :func:`sq_minima` — squared nearest-neighbour distances both ways (no indices); the fast
  path for metrics.
- :func:`nearest_indices` — indices of the nearest neighbours both ways; the differentiable
  Chamfer gathers with them and recomputes distances under autograd.

CPU tensors go to the fused numba kernels in :mod:`._cpu_kernels`; other devices use a
chunked ``torch.cdist`` in its direct-difference mode (never the ``mm`` form, whose
cancellation turns near-duplicate points into spurious distances).
"""

from __future__ import annotations

import numpy as np
import torch

from . import _cpu_kernels

# Peak bytes of the (chunk, P1, P2) distance block that the torch path materialises.
TORCH_BLOCK_BYTES = 256 * 2**20


def to_soa(clouds: torch.Tensor) -> np.ndarray:
    """(B, P, 3) tensor → contiguous (B, 3, P) numpy array (the kernels' layout)."""
    return np.ascontiguousarray(clouds.detach().cpu().numpy().transpose(0, 2, 1))


def _full_lengths(clouds: torch.Tensor, lengths):
    if lengths is None:
        return torch.full((clouds.shape[0],), clouds.shape[1], dtype=torch.int64, device=clouds.device)
    return lengths


def _use_cpu_kernel(x: torch.Tensor) -> bool:
    return x.device.type == "cpu"


def _kernel_inputs(x, y, x_lengths, y_lengths):
    """SoA numpy clouds and int64 lengths for the CPU kernels."""
    return to_soa(x), x_lengths.cpu().numpy(), to_soa(y), y_lengths.cpu().numpy()


def _torch_blocks(x, y, x_lengths, y_lengths):
    """Yield (slice, squared distance block (b, P1, P2)) with padded entries at +inf."""
    batch, p1, p2 = x.shape[0], x.shape[1], y.shape[1]
    per_cloud = max(1, p1 * p2 * x.element_size())
    step = max(1, TORCH_BLOCK_BYTES // per_cloud)
    ar1 = torch.arange(p1, device=x.device)
    ar2 = torch.arange(p2, device=x.device)
    for start in range(0, batch, step):
        sl = slice(start, min(start + step, batch))
        d = torch.cdist(x[sl], y[sl], compute_mode="donot_use_mm_for_euclid_dist").square_()  # (b, P1, P2)
        invalid = (ar1[None, :, None] >= x_lengths[sl, None, None]) | (
            ar2[None, None, :] >= y_lengths[sl, None, None]
        )
        d.masked_fill_(invalid, float("inf"))
        yield sl, d


def sq_minima(x, y, x_lengths=None, y_lengths=None):
    """Squared nearest-neighbour distances both ways, without gradient.

    Parameters
    ----------
    x : FloatTensor of shape (B, P1, 3)
    y : FloatTensor of shape (B, P2, 3), same device and dtype as ``x``
    x_lengths, y_lengths : LongTensor of shape (B,), default=None
        Valid points per cloud (ragged batches); ``None``: all points are valid.

    Returns
    -------
    (Tensor of shape (B, P1), Tensor of shape (B, P2)) in the dtype and on the device of ``x``
        For each point of x its squared distance to the nearest valid point of y, and the
        reverse. Entries past a cloud's length are **0 on every device** (PyTorch3D's
        convention), so unmasked sums count only valid points; callers still mask means.
    """
    x_lengths = _full_lengths(x, x_lengths)
    y_lengths = _full_lengths(y, y_lengths)
    if _use_cpu_kernel(x):
        xs, xl, ys, yl = _kernel_inputs(x, y, x_lengths, y_lengths)
        rowmin = np.zeros((x.shape[0], x.shape[1]), xs.dtype)  # entries past a length stay 0
        colmin = np.zeros((y.shape[0], y.shape[1]), ys.dtype)
        _cpu_kernels.batch_sq_minima(xs, xl, ys, yl, rowmin, colmin)
        return torch.from_numpy(rowmin), torch.from_numpy(colmin)
    rowmin = torch.empty(x.shape[:2], dtype=x.dtype, device=x.device)
    colmin = torch.empty(y.shape[:2], dtype=x.dtype, device=x.device)
    with torch.no_grad():
        for sl, d in _torch_blocks(x.detach(), y.detach(), x_lengths, y_lengths):
            rowmin[sl] = d.amin(2)  # +inf on padded rows (every entry of the row is masked)
            colmin[sl] = d.amin(1)
        # The CPU kernel never writes past a length and its output starts at 0: the same here.
        rowmin.masked_fill_(torch.arange(x.shape[1], device=x.device)[None, :] >= x_lengths[:, None], 0)
        colmin.masked_fill_(torch.arange(y.shape[1], device=x.device)[None, :] >= y_lengths[:, None], 0)
    return rowmin, colmin


def nearest_indices(x, y, x_lengths=None, y_lengths=None):
    """Indices of nearest neighbours: ``(B, P1)`` into y and ``(B, P2)`` into x (int64).

    Entries past a cloud's length are 0 (a valid index, masked by callers).
    """
    x_lengths = _full_lengths(x, x_lengths)
    y_lengths = _full_lengths(y, y_lengths)
    if _use_cpu_kernel(x):
        xs, xl, ys, yl = _kernel_inputs(x, y, x_lengths, y_lengths)
        batch, p1, p2 = x.shape[0], x.shape[1], y.shape[1]
        d_xy = np.empty((batch, p1), xs.dtype)
        d_yx = np.empty((batch, p2), xs.dtype)
        i_xy = np.zeros((batch, p1), np.int32)
        i_yx = np.zeros((batch, p2), np.int32)
        _cpu_kernels.batch_nearest(xs, xl, ys, yl, d_xy, i_xy, d_yx, i_yx)
        return torch.from_numpy(i_xy).long(), torch.from_numpy(i_yx).long()
    i_xy = torch.zeros(x.shape[:2], dtype=torch.int64, device=x.device)
    i_yx = torch.zeros(y.shape[:2], dtype=torch.int64, device=x.device)
    with torch.no_grad():
        for sl, d in _torch_blocks(x.detach(), y.detach(), x_lengths, y_lengths):
            i_xy[sl] = d.argmin(2)
            i_yx[sl] = d.argmin(1)
    return i_xy, i_yx
