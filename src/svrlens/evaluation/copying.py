"""The copying test: do the predictions sit closer to the training shapes than real shapes do?

Meehan, Chaudhuri & Dasgupta (AISTATS 2020) detect data-copying with three samples: the training
set T, held-out real samples P (here the test truths) and generated samples Q (here the
predictions). With L(x) the distance of x to its nearest training sample,

    U = Mann–Whitney U of L(Q) against L(P),   Z_U = (U − nm/2) / √(nm(n + m + 1)/12),

n = |Q|, m = |P|: Z_U ≈ 0 when the predictions are as far from the training set as real shapes
are, strongly negative when they are closer (copying), positive when farther (underfitting).
Their C_T statistic computes Z_U per cell of a partition fitted on T and averages the cells'
Z_U weighted by the share of real samples in each; Pu et al. (2025) apply it to 3D shapes.

Here L is the **excess over the sampling floor** of a cloud scored against the dense cloud of its
nearest training shape (:mod:`.references`). The diagnosis (:func:`.instruments.copying`) passes
the truths' own rows for P and, for Q, the rows of the test truths the predictions land on: a
network's output is another sampling than a random surface sample (a folded grid spreads its points
more evenly), its excess is offset from the truths' by that alone, and on raw excesses the offset
decided the test (measured; see :mod:`.instruments`). The cells are the training-shape clusters of
the diagnosis (adaptive affinity propagation on the training shapes); a sample's cell is the
cluster of its nearest training shape. A cell enters the combination when it holds at least one
prediction and one truth. Besides C_T, the cells' Z_U are combined by Stouffer's rule with the
same weights, ``Σ wᶜ Zᶜ / √Σ wᶜ²``, standard normal when no cell copies: its lower tail is the
p-value of the combination.

**Decidable only above the noise.** Copying is "closer to the training shapes than real shapes
are"; when the truths themselves are within the noise of one excess value of a training shape
(a training set that covers the test shapes densely, as 1.1.6–1.1.7), a copy and a reconstruction
are the same distance away and the test can only read sampling noise (measured on idealised
predictors of such a set: exact copies of training shapes read C_T between −6 and +8 depending
on how their sampling relates to the truths'). A cell is therefore used only when its truths'
median L exceeds twice the excess noise (:func:`.references.excess_noise`, the rule of the DS
ratio and of memorisation); with no such cell, C_T is undefined (None) and says so.

Expected on idealised predictors (:mod:`.calibration`): an exact recogniser emits training clouds
and lands on the truths nearest the training shapes: strongly negative; an exact reconstructor,
however its points are spread (random, or as even as farthest-point sampling), lands on its own
truths and reads 0; output noise can move a prediction to another truth only when it exceeds the
gaps between test shapes. Z_U measures closeness to the training *set*, not Definition 1: a
recogniser that emits shapes far from every training shape does not copy.
"""

from __future__ import annotations

import numbers

import numpy as np


def z_u(l_pred, l_ref) -> dict:
    """Z-scored Mann–Whitney U of ``l_pred`` (n,) against ``l_ref`` (m,).

    Parameters
    ----------
    l_pred : array-like of shape (n,)
        Distances of the predictions to their nearest training shape.
    l_ref : array-like of shape (m,)
        Distances of held-out real shapes to their nearest training shape.

    Returns
    -------
    dict
        ``u`` (U of ``l_pred``: pairs where the prediction is farther, ties counting ½, as
        ``scipy.stats.mannwhitneyu(l_pred, l_ref).statistic``), ``z_u`` = (U − nm/2) /
        √(nm(n+m+1)/12) (no tie or continuity correction, as in the definition), ``p_value``
        (one-sided, predictions closer: ``scipy.stats.mannwhitneyu(..., alternative="less")``,
        which corrects for ties), ``n``, ``m``.

    Raises
    ------
    ValueError
        An empty or non-finite sample.
    """
    from scipy import stats  # imported here: ~0.8 s of every command's start otherwise

    x = np.asarray(l_pred, np.float64).ravel()
    y = np.asarray(l_ref, np.float64).ravel()
    if x.size == 0 or y.size == 0 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(f"z_u: expected two non-empty finite samples, found sizes {x.size} and {y.size}")
    n, m = x.size, y.size
    ranks = stats.rankdata(np.concatenate([x, y]))  # mid-ranks for ties
    u = float(ranks[:n].sum() - n * (n + 1) / 2)
    z = (u - n * m / 2) / np.sqrt(n * m * (n + m + 1) / 12)
    p = float(stats.mannwhitneyu(x, y, alternative="less").pvalue)
    return {"u": u, "z_u": float(z), "p_value": p, "n": int(n), "m": int(m)}


def copying_test(pred_to_train, truth_to_train, train_labels, noise: float | None = None) -> dict:
    """The copying test per training-shape cluster and combined (see the module docstring).

    Parameters
    ----------
    pred_to_train : ndarray of shape (N_pred, N_train)
        Excess (or any distance) of each prediction against each training shape.
    truth_to_train : ndarray of shape (N_truth, N_train)
        The same for the held-out truths.
    train_labels : array-like of shape (N_train,), int
        Cluster of each training shape (the cells).
    noise : float, optional
        Noise of one excess value (:func:`.references.excess_noise`). A cell is decidable when its
        truths' median L exceeds ``2 * noise``; None: every cell is (distances without noise).

    Returns
    -------
    dict, JSON-ready
        ``statistic`` (C_T: the decidable cells' Z_U averaged with weights = share of the truths
        in the cell; None when no cell is decidable), ``p_value`` (one-sided lower tail of the
        Stouffer combination ``combined_z``), ``combined_z``, ``global`` (:func:`z_u` over all
        samples, one cell, with ``decidable``), ``cells`` (per cluster: ``cell``,
        ``n_predictions``, ``n_truths``, ``weight``, ``median_truth``, ``decidable``, ``z_u``,
        ``p_value``; None where the cell lacks predictions or truths or is not decidable),
        ``n_cells_used``, ``threshold`` (``2 * noise`` or None), ``undefined`` (why C_T is None,
        else None), ``median_prediction`` and ``median_truth`` (of L).

    Raises
    ------
    ValueError
        Shapes that do not match, non-finite distances, or a ``noise`` that is not a finite
        number ≥ 0.
    """
    from scipy import stats  # imported here: ~0.8 s of every command's start otherwise

    pred = np.asarray(pred_to_train, np.float64)
    truth = np.asarray(truth_to_train, np.float64)
    labels = np.asarray(train_labels, np.int64)
    if (
        pred.ndim != 2
        or truth.ndim != 2
        or labels.ndim != 1
        or not pred.shape[1] == truth.shape[1] == labels.shape[0]
        or 0 in pred.shape + truth.shape
    ):
        raise ValueError(
            "copying_test: expected non-empty (N_pred, T) and (N_truth, T) distances and T labels, "
            f"found {pred.shape}, {truth.shape} and {labels.shape}"
        )
    l_pred, l_truth = pred.min(1), truth.min(1)
    cell_pred, cell_truth = labels[pred.argmin(1)], labels[truth.argmin(1)]
    real = isinstance(noise, numbers.Real) and not isinstance(noise, bool)
    if noise is not None and not (real and np.isfinite(noise) and noise >= 0):
        raise ValueError(f"copying_test: noise must be a finite number ≥ 0 or None, found {noise!r}")
    threshold = None if noise is None else 2 * float(noise)
    cells, weights, scores = [], [], []
    for cell in np.unique(labels):
        in_pred, in_truth = cell_pred == cell, cell_truth == cell
        median_truth = float(np.median(l_truth[in_truth])) if in_truth.any() else None
        entry = {
            "cell": int(cell),
            "n_predictions": int(in_pred.sum()),
            "n_truths": int(in_truth.sum()),
            "weight": float(in_truth.mean()),
            "median_truth": median_truth,
            "decidable": median_truth is not None and (threshold is None or median_truth > threshold),
            "z_u": None,
            "p_value": None,
        }
        if in_pred.any() and entry["decidable"]:
            result = z_u(l_pred[in_pred], l_truth[in_truth])
            entry["z_u"], entry["p_value"] = result["z_u"], result["p_value"]
            weights.append(entry["weight"])
            scores.append(result["z_u"])
        cells.append(entry)
    weights, scores = np.asarray(weights), np.asarray(scores)
    used = weights.sum() > 0
    statistic = float(weights @ scores / weights.sum()) if used else None
    combined = float(weights @ scores / np.sqrt((weights**2).sum())) if used else None
    undefined = None
    if not used and threshold is not None and not any(c["decidable"] and c["n_predictions"] for c in cells):
        undefined = (
            f"every training cluster that holds predictions has its test truths within the noise of the "
            f"training shapes (median excess ≤ 2 × noise = {threshold:.2g}): there a copy and a "
            "reconstruction are as far away"
        )
    elif not used:
        undefined = "no training cluster holds both predictions and truths"
    global_test = z_u(l_pred, l_truth)
    global_test["decidable"] = threshold is None or float(np.median(l_truth)) > threshold
    return {
        "statistic": statistic,
        "name": "C_T (Z_U per training-shape cluster, weighted by the truths' share)",
        "p_value": None if combined is None else float(stats.norm.cdf(combined)),
        "combined_z": combined,
        "global": global_test,
        "cells": cells,
        "n_cells_used": int(len(scores)),
        "threshold": threshold,
        "undefined": undefined,
        "median_prediction": float(np.median(l_pred)),
        "median_truth": float(np.median(l_truth)),
    }
