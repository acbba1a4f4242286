"""Slow, obviously-correct float64 references for the geometry kernels."""

import numpy as np


def sq_dists(x, y):
    """Dense float64 squared distance matrix (P1, P2) from explicit differences."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def chamfer(x, y, squared=False):
    d = sq_dists(x, y)
    if not squared:
        d = np.sqrt(d)
    return d.min(1).mean() + d.min(0).mean()


def precision_recall_f(x, y, threshold):
    d = np.sqrt(sq_dists(x, y))
    precision = (d.min(1) < threshold).mean()
    recall = (d.min(0) < threshold).mean()
    f = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return f, precision, recall
