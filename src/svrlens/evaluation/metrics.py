"""Per-sample Chamfer and F-score with the conventions stated alongside the numbers."""

from __future__ import annotations

import numpy as np
import torch

from svrlens.geometry.chamfer import precision_recall_to_fscore
from svrlens.geometry.nearest import sq_minima

from .config import DEFAULT_THRESHOLDS


def thresholds_for(ground_truth: np.ndarray, thresholds, relative: bool) -> np.ndarray:
    """(N, T) absolute thresholds. ``relative``: fractions of each ground truth's bounding-box
    side (its largest extent), Tatarchenko et al.'s "F@1%" convention; else absolute distances."""
    t = np.atleast_1d(np.asarray(thresholds, np.float64))
    if relative:
        side = np.ptp(np.asarray(ground_truth, np.float64), axis=1).max(1)  # (N,)
        return side[:, None] * t[None, :]
    return np.broadcast_to(t, (len(ground_truth), len(t))).copy()


def per_sample_metrics(
    predictions, ground_truth, *, thresholds=DEFAULT_THRESHOLDS, relative=True, batch_size=256
) -> dict:
    """Chamfer (eq. 2) and F-score (eqs. 3–5) of each prediction against its ground truth.

    Returns ``chamfer`` (N,), ``fscore`` / ``precision`` / ``recall`` (N, T) and ``conventions``
    (the Chamfer convention, threshold meaning, point counts) so a report can state them.
    """
    pred = np.asarray(predictions, np.float32)
    gt = np.asarray(ground_truth, np.float32)
    if pred.shape[0] != gt.shape[0]:
        raise ValueError(
            f"predictions and ground truth: expected the same number of samples, "
            f"found {pred.shape[0]} and {gt.shape[0]}"
        )
    absolute = thresholds_for(gt, thresholds, relative)
    chamfer = np.empty(len(gt))
    precision = np.empty(absolute.shape)
    recall = np.empty(absolute.shape)
    for start in range(0, len(gt), batch_size):
        sl = slice(start, start + batch_size)
        x, y = torch.from_numpy(pred[sl]), torch.from_numpy(gt[sl])
        sq_xy, sq_yx = sq_minima(x, y)  # (b, P1), (b, P2) squared NN distances
        d_xy, d_yx = sq_xy.double().sqrt().numpy(), sq_yx.double().sqrt().numpy()
        chamfer[sl] = d_xy.mean(1) + d_yx.mean(1)
        limit = absolute[sl][:, None, :]  # (b, 1, T): thresholds may differ per sample
        precision[sl] = (d_xy[:, :, None] < limit).mean(1)
        recall[sl] = (d_yx[:, :, None] < limit).mean(1)
    f = precision_recall_to_fscore(torch.from_numpy(precision), torch.from_numpy(recall)).numpy()
    conventions = {
        "chamfer": "paper eq. 2: unsquared L2, mean per set, both directions summed",
        "fscore": "eqs. 3-5, unsquared nearest-neighbour distances, strict <, prediction = precision side",
        "thresholds": list(np.atleast_1d(thresholds).astype(float)),
        "thresholds_relative": bool(relative),
        "threshold_meaning": "fraction of each ground truth's bounding-box side"
        if relative
        else "absolute distance",
        "points_predicted": int(pred.shape[1]),
        "points_ground_truth": int(gt.shape[1]),
        "normalisation": "none (coordinates as given)",
    }
    return {
        "chamfer": chamfer,
        "fscore": f,
        "precision": precision,
        "recall": recall,
        "conventions": conventions,
    }


def point_spacing(points: np.ndarray, dense: np.ndarray, *, batch_size: int = 256) -> float:
    """The outputs' point spacing: the median over shapes of the mean distance from a point of
    the dense surface sample (N, D, 3) to the nearest of the P-point sample (N, P, 3) of the same
    shape — how far apart the points of a perfect P-point output are. An F-score threshold below
    it counts coincidences of points rather than shape."""
    means = []
    for start in range(0, len(points), batch_size):
        sl = slice(start, start + batch_size)
        _, sq_dense_to_points = sq_minima(
            torch.from_numpy(np.ascontiguousarray(points[sl], np.float32)),
            torch.from_numpy(np.ascontiguousarray(dense[sl], np.float32)),
        )
        means.append(sq_dense_to_points.double().sqrt().mean(1).numpy())
    return float(np.median(np.concatenate(means)))
