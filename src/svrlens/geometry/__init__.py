"""Geometry of point sets: Chamfer distance (paper eq. 2), F-score (eqs. 3–5), distance matrices.

Conventions (stated everywhere because earlier tools differ):

- Chamfer is the paper's eq. 2 by default: *unsquared* L2, mean per set, both directions summed.
  ``squared=True`` is the PyTorch3D / AtlasNet convention (squared L2, mean, summed).
- F-score uses unsquared nearest-neighbour distances and a strict ``<``; ``x`` is the
  reconstruction (precision side) and ``y`` the ground truth (recall side).
- Image distance is the mean absolute difference per pixel value, uint8 scaled to [0, 1].
"""

from .chamfer import FScore, chamfer_distance, fscore
from .pairwise import DEFAULT_MAX_MEMORY, pairwise_chamfer, pairwise_fscore, pairwise_l1

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "FScore",
    "chamfer_distance",
    "fscore",
    "pairwise_chamfer",
    "pairwise_fscore",
    "pairwise_l1",
]
