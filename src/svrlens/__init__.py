"""svrlens: does a single-view 3D reconstruction network reconstruct shapes, or recognise images?

Pipeline stages, each a subpackage, dependencies pointing downward:
``geometry`` (Chamfer / F-score kernels, distance matrices) ← ``tendency`` (silhouette,
affinity propagation) ← ``data`` ← ``models`` ← ``training`` ← ``evaluation`` ← ``experiments``
← ``report``; ``cli`` only parses and calls.
"""

__version__ = "0.1.0"
