"""Baselines of Tatarchenko et al. (CVPR 2019): Oracle-NN, retrieval and clustering.

Each returns, per test sample, the index of the *training* shape it predicts, so the metrics,
the comparison and the memorisation score can all be computed from ``train_points[index]``.
"""

from __future__ import annotations

import numpy as np

from svrlens.geometry import pairwise_chamfer, pairwise_l1
from svrlens.tendency import AdaptiveAffinityPropagation, AffinityPropagation


def oracle_nn(
    test_points, train_points, *, test_dense=None, progress=False, distances=None, cache_dir=None
) -> tuple[np.ndarray, np.ndarray]:
    """For each test shape, the training shape closest to its *ground truth* in Chamfer distance.

    Impossible in practice (it looks at the answer); the limit of any retrieval method (sec. 4.1).
    Returns (indices (N_test,), Chamfer distances (N_test,)). With ``test_dense`` (N_test, D, 3),
    each training cloud is scored as an output against the dense truth (how the diagnosis scores
    every method, :mod:`.references`); else test × train clouds. Uses ``pairwise_chamfer``, tiled
    under its memory budget; pass ``distances`` (N_test, N_train) to reuse a matrix, or
    ``cache_dir`` to compute test × train in resumable blocks (:mod:`svrlens.evaluation.blocks`).
    """
    if distances is None and test_dense is not None:
        distances = pairwise_chamfer(np.asarray(train_points), np.asarray(test_dense), progress=progress).T
    if distances is None and cache_dir is not None:
        from .blocks import blocked_chamfer

        distances = blocked_chamfer(test_points, train_points, cache_dir=cache_dir, progress=progress)
    if distances is None:
        distances = pairwise_chamfer(
            np.asarray(test_points), np.asarray(train_points), progress=progress
        )  # (N_test, N_train)
    index = distances.argmin(1)
    return index, distances[np.arange(len(index)), index]


def retrieval(test_images, train_images) -> np.ndarray:
    """The training shape paired with the nearest training image (ℓ1); indices (N_test,)."""
    return pairwise_l1(np.asarray(test_images), np.asarray(train_images)).argmin(1)


def cluster_medoids(distances: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Medoid (smallest summed distance to its cluster) of each cluster 0 … K−1."""
    medoids = []
    for cluster in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == cluster)
        medoids.append(members[distances[np.ix_(members, members)].sum(1).argmin()])
    return np.asarray(medoids, np.int64)


def clustering(
    test_images,
    train_images,
    train_points,
    *,
    n_clusters=None,
    shape_distances=None,
    shape_labels=None,
    random_state=0,
) -> dict:
    """Recognition by construction: cluster the training shapes, classify the test image into a
    cluster by its nearest training image (ℓ1), predict the cluster's medoid shape.

    ``n_clusters=None`` clusters with adaptive affinity propagation; an integer K scans the AP
    preference for the run whose K is nearest to it. Returns ``index`` (N_test,) into the training
    set, ``labels`` of the training shapes, ``medoids`` and ``n_clusters``. ``shape_labels``
    reuses a clustering of the training shapes already made (e.g. by the shape tendency).
    """
    d = pairwise_chamfer(np.asarray(train_points)) if shape_distances is None else shape_distances
    if shape_labels is not None and n_clusters is None:
        labels = np.asarray(shape_labels, np.int64)
        medoids = cluster_medoids(d, labels)
        return {
            "index": medoids[labels[retrieval(test_images, train_images)]],
            "labels": labels,
            "medoids": medoids,
            "n_clusters": int(labels.max()) + 1,
        }
    model = AdaptiveAffinityPropagation(random_state=random_state).fit(d)
    labels = model.labels_
    if n_clusters is not None and len(model.scan_) and int(labels.max()) + 1 != n_clusters:
        step = min(model.scan_, key=lambda s: (abs(s.n_clusters - n_clusters), -(s.silhouette or -1)))
        labels = (
            AffinityPropagation(
                preference=step.preference, damping=max(step.damping, 0.5), random_state=random_state
            )
            .fit(d)
            .labels_
        )
    medoids = cluster_medoids(d, labels)
    nearest_train_image = retrieval(test_images, train_images)
    return {
        "index": medoids[labels[nearest_train_image]],
        "labels": labels,
        "medoids": medoids,
        "n_clusters": int(labels.max()) + 1,
    }
