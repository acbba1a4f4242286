"""Batched Chamfer distance (paper eq. 2) and F-score (eqs. 3–5) between padded clouds."""

from __future__ import annotations

from typing import NamedTuple

import torch

from ._checks import check_pair, check_thresholds
from .nearest import nearest_indices, sq_minima


class FScore(NamedTuple):
    """F-score with its precision and recall, each of shape (B,) or (B, T)."""

    fscore: torch.Tensor
    precision: torch.Tensor
    recall: torch.Tensor


def _valid_mask(clouds: torch.Tensor, lengths) -> torch.Tensor | None:
    if lengths is None:
        return None
    return torch.arange(clouds.shape[1], device=clouds.device)[None, :] < lengths[:, None]  # (B, P)


def _masked_mean(values: torch.Tensor, mask, lengths) -> torch.Tensor:
    """Mean over the point axis (dim 1) of (B, P) values, counting valid points only.

    ``masked_fill``, not a product with the mask: a padded entry that is inf or NaN must give 0,
    and its gradient 0 (inf × 0 is NaN)."""
    if mask is None:
        return values.mean(1)
    return values.masked_fill(~mask, 0.0).sum(1) / lengths.to(values.dtype)


def _without_padding(clouds: torch.Tensor, mask) -> torch.Tensor:
    """``clouds`` (B, P, 3) with every padded point replaced by the origin, before any arithmetic:
    padding may hold anything (0, 1e20, inf, NaN) and must reach neither a value nor a gradient.
    Differentiable; the padded points get a zero gradient."""
    if mask is None:
        return clouds
    return clouds.masked_fill(~mask[:, :, None], 0.0)


def _masked_mean_over_thresholds(hits: torch.Tensor, mask, lengths) -> torch.Tensor:
    """(B, P, T) hit indicators → (B, T) fraction over valid points."""
    if mask is None:
        return hits.mean(1)
    return _masked_mean(hits, mask[:, :, None], lengths[:, None])


def _safe_norm(sq: torch.Tensor) -> torch.Tensor:
    """sqrt with a zero (not NaN) gradient where the squared distance is exactly 0."""
    positive = sq > 0
    return torch.where(
        positive, torch.sqrt(torch.where(positive, sq, torch.ones_like(sq))), torch.zeros_like(sq)
    )


def _gathered_distance(points: torch.Tensor, targets: torch.Tensor, index: torch.Tensor, squared: bool):
    """Distance from each point (B, P, 3) to targets[b, index[b, p]] under autograd → (B, P)."""
    nearest = torch.gather(targets, 1, index.unsqueeze(-1).expand(-1, -1, 3))  # (B, P, 3)
    sq = (points - nearest).square().sum(-1)  # (B, P)
    return sq if squared else _safe_norm(sq)


def chamfer_distance(x, y, *, x_lengths=None, y_lengths=None, squared=False):
    """Symmetric Chamfer distance between two batches of point clouds.

    The default is the paper's eq. 2 exactly::

        d(x, y) = mean_{p in x} min_{q in y} ||p - q||_2  +  mean_{q in y} min_{p in x} ||q - p||_2

    i.e. *unsquared* Euclidean distances, a mean per set and the two directions *summed*.

    Parameters
    ----------
    x : FloatTensor of shape (B, P1, 3)
        First batch (e.g. reconstructions), float32 or float64 (half precision is promoted to
        float32), CPU or CUDA. A numpy array is accepted and converted.
    y : FloatTensor of shape (B, P2, 3)
        Second batch (e.g. ground truth), same batch size, device and dtype family.
    x_lengths : LongTensor of shape (B,), default=None
        Number of valid points of each cloud of ``x`` for ragged batches padded to P1;
        points past the length are ignored whatever they hold (0, 1e20, inf, NaN: they are
        replaced before any arithmetic, and get a zero gradient). ``None`` means every cloud
        has P1 points.
    y_lengths : LongTensor of shape (B,), default=None
        The same for ``y``.
    squared : bool, default=False
        ``False``: unsquared L2 distances (eq. 2; Tatarchenko et al.). ``True``: *squared*
        L2 distances, mean per set, summed over the two directions — PyTorch3D's
        ``chamfer_distance`` with its default reductions and the AtlasNet convention.

    Returns
    -------
    Tensor of shape (B,)
        One distance per pair of clouds, in the dtype of the inputs. Differentiable with
        respect to ``x`` and ``y``; the gradient is finite (zero) where points coincide.

    Raises
    ------
    ValueError
        Wrong rank or last dimension ≠ 3, empty clouds, NaN/inf coordinates, mismatched batch
        sizes or devices; the message states expected and found values.

    Notes
    -----
    Nearest neighbours are found without gradient by a fused kernel that never materialises
    the P1 × P2 distance matrix on the CPU (a chunked ``torch.cdist`` elsewhere); the
    distances to those neighbours are then recomputed under autograd, so gradients flow to
    both inputs exactly as through a dense formulation. When neither input requires a
    gradient, only the minima are computed (faster).

    Examples
    --------
    >>> import torch
    >>> from svrlens.geometry import chamfer_distance
    >>> x = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    >>> y = torch.tensor([[[0.0, 0.0, 0.0]]])
    >>> chamfer_distance(x, y)  # (0 + 1) / 2 + 0 / 1
    tensor([0.5000])
    """
    x, y, x_lengths, y_lengths = check_pair(x, y, x_lengths, y_lengths)
    x_mask, y_mask = _valid_mask(x, x_lengths), _valid_mask(y, y_lengths)
    x, y = _without_padding(x, x_mask), _without_padding(y, y_mask)
    if torch.is_grad_enabled() and (x.requires_grad or y.requires_grad):
        i_xy, i_yx = nearest_indices(x, y, x_lengths, y_lengths)
        d_xy = _gathered_distance(x, y, i_xy.to(x.device), squared)  # (B, P1)
        d_yx = _gathered_distance(y, x, i_yx.to(x.device), squared)  # (B, P2)
    else:
        sq_xy, sq_yx = sq_minima(x, y, x_lengths, y_lengths)
        sq_xy, sq_yx = sq_xy.to(x.device, torch.float64), sq_yx.to(x.device, torch.float64)
        d_xy = sq_xy if squared else sq_xy.sqrt()
        d_yx = sq_yx if squared else sq_yx.sqrt()
        if x_mask is not None:
            d_xy = d_xy.masked_fill(~x_mask, 0.0)
        if y_mask is not None:
            d_yx = d_yx.masked_fill(~y_mask, 0.0)
    out = _masked_mean(d_xy, x_mask, x_lengths) + _masked_mean(d_yx, y_mask, y_lengths)
    return out.to(x.dtype)


def precision_recall_to_fscore(precision: torch.Tensor, recall: torch.Tensor) -> torch.Tensor:
    """Eq. 5, harmonic mean of precision and recall, defined as 0 where P + R = 0."""
    total = precision + recall
    return torch.where(total > 0, 2 * precision * recall / torch.where(total > 0, total, 1.0), 0.0)


def fscore(x, y, threshold, *, x_lengths=None, y_lengths=None):
    """F-score of reconstructions ``x`` against ground truth ``y`` (eqs. 3–5).

    Precision is the fraction of points of ``x`` whose nearest point of ``y`` lies at an
    unsquared Euclidean distance strictly below ``threshold``; recall is the fraction of
    points of ``y`` with a point of ``x`` strictly closer than ``threshold``;
    F = 2PR / (P + R), and F = 0 when P + R = 0.

    Parameters
    ----------
    x : FloatTensor of shape (B, P1, 3)
        Reconstructions.
    y : FloatTensor of shape (B, P2, 3)
        Ground truth.
    threshold : float or 1-D sequence/Tensor of shape (T,)
        Distance threshold(s) d ≥ 0 in the units of the coordinates (unsquared). For
        Tatarchenko et al.'s "F@1%" on shapes normalised to a unit cube, d = 0.01.
    x_lengths, y_lengths : LongTensor of shape (B,), default=None
        Valid points per cloud for ragged batches (see :func:`chamfer_distance`).

    Returns
    -------
    FScore
        Named tuple ``(fscore, precision, recall)``, each float64 of shape (B,) for a
        scalar threshold or (B, T) for T thresholds, on the device of the inputs.
        Not differentiable (counts).
    """
    x, y, x_lengths, y_lengths = check_pair(x, y, x_lengths, y_lengths)
    thresholds, scalar = check_thresholds(threshold)
    thresholds = thresholds.to(x.device)
    x_mask, y_mask = _valid_mask(x, x_lengths), _valid_mask(y, y_lengths)
    x, y = _without_padding(x, x_mask), _without_padding(y, y_mask)
    sq_xy, sq_yx = sq_minima(x, y, x_lengths, y_lengths)
    d_xy = sq_xy.to(x.device, torch.float64).sqrt()  # (B, P1)
    d_yx = sq_yx.to(x.device, torch.float64).sqrt()  # (B, P2)
    hit_x = (d_xy[:, :, None] < thresholds).to(torch.float64)  # (B, P1, T)
    hit_y = (d_yx[:, :, None] < thresholds).to(torch.float64)  # (B, P2, T)
    precision = _masked_mean_over_thresholds(hit_x, x_mask, x_lengths)  # (B, T)
    recall = _masked_mean_over_thresholds(hit_y, y_mask, y_lengths)  # (B, T)
    result = FScore(precision_recall_to_fscore(precision, recall), precision, recall)
    if scalar:
        result = FScore(*(t[:, 0] for t in result))
    return result
