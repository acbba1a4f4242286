"""One real mesh file, read and made ready: all its parts, checked, turned upright and normalised.

Real meshes are multi-part, not watertight, textured, in arbitrary units and axes. Here:

- **parts**: every triangle mesh of the file (a scene's nodes with their transforms applied) is
  concatenated, so surface samples are area-weighted across all parts; point clouds and curves
  in a scene are left out; textures and materials are never read;
- **checks** (:class:`BrokenMesh`, with the reason): no faces, non-finite coordinates, face
  indices beyond the vertex list, zero surface area, most vertices used by no face (a point
  cloud with a few stray faces, or a broken export); otherwise unused vertices are dropped, so
  that they move neither the bounding box nor the normalisation;
- **up axis**: the file's up axis (``"y"`` for ShapeNet, OBJ and glTF, ``"z"`` for ModelNet) is
  rotated onto svrlens's +z (the renderer's screen up), a y-up file's front (+z) onto +y, which
  the isometric view sees (:func:`up_rotation`);
- **normalisation**: ``"box"`` centres the axis-aligned bounding box and scales its longest side
  to 1 (the shape fits [-0.5, 0.5]³, as ShapeNetCore's normalised models); ``"ball"`` centres
  the bounding box and scales the farthest surface point to distance 1 (ModelNet / PointNet
  style). The centre and scale are returned so the original units can be recovered.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MESH_SUFFIXES = (".obj", ".off", ".ply", ".stl", ".glb")
UP_AXES = ("x", "y", "z", "-x", "-y", "-z")
NORMALISATIONS = ("box", "ball")
UNUSED_LIMIT = 0.5  # more than this fraction of vertices used by no face: broken, not just untidy


class BrokenMesh(Exception):
    """A mesh that cannot be built: ``reason`` says why, in a few words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _parts(loaded) -> list[tuple[np.ndarray, np.ndarray]]:
    """(vertices, faces) of every triangle mesh in what trimesh loaded, scene transforms applied."""
    import trimesh

    if isinstance(loaded, trimesh.Trimesh):
        return [(np.asarray(loaded.vertices, np.float64), np.asarray(loaded.faces, np.int64))]
    if not isinstance(loaded, trimesh.Scene):
        return []
    parts = []
    for node in loaded.graph.nodes_geometry:
        transform, name = loaded.graph[node]
        geometry = loaded.geometry.get(name)
        if isinstance(geometry, trimesh.Trimesh) and len(geometry.faces):
            vertices = np.asarray(geometry.vertices, np.float64)
            vertices = vertices @ np.asarray(transform[:3, :3]).T + np.asarray(transform[:3, 3])
            parts.append((vertices, np.asarray(geometry.faces, np.int64)))
    return parts


def load_mesh(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a mesh file (.obj, .off, .ply, .stl, .glb) with every part, textures skipped.

    Returns
    -------
    vertices : ndarray of shape (V, 3), float64
        Only vertices that some face uses, in the file's units and axes.
    faces : ndarray of shape (F, 3), int64

    Raises
    ------
    BrokenMesh
        Unreadable, or degenerate (see the module docstring); ``reason`` says which.
    """
    import trimesh

    path = Path(path)
    try:
        loaded = trimesh.load(path, process=False, skip_materials=True)
    except MemoryError:
        raise
    except Exception as error:  # trimesh raises many types for malformed files
        raise BrokenMesh(
            f"unreadable ({type(error).__name__}: {' '.join(str(error).split())[:120]})"
        ) from None
    parts = _parts(loaded)
    if not parts:
        raise BrokenMesh("no faces (empty, or a point cloud)")
    offsets = np.cumsum([0] + [len(v) for v, _ in parts])
    vertices = np.concatenate([v for v, _ in parts])
    faces = np.concatenate([f + offset for (_, f), offset in zip(parts, offsets)])
    return checked(vertices, faces)


def checked(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check a triangle mesh and drop its unused vertices: (vertices (V', 3), faces (F, 3)).

    Raises
    ------
    BrokenMesh
        No faces, face indices outside the vertex list, non-finite coordinates, most vertices
        used by no face, or zero (or non-finite) surface area.
    """
    vertices = np.asarray(vertices, np.float64)
    faces = np.asarray(faces, np.int64)
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise BrokenMesh("no faces (empty, or a point cloud)")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise BrokenMesh(f"face indices outside the {len(vertices)} vertices")
    used = np.zeros(len(vertices), bool)
    used[faces.ravel()] = True
    if not np.isfinite(vertices[used]).all():
        raise BrokenMesh("non-finite vertex coordinates (NaN or inf)")
    if used.sum() < (1 - UNUSED_LIMIT) * len(vertices):
        raise BrokenMesh(
            f"most vertices unused by any face ({len(vertices) - used.sum()} of {len(vertices)})"
        )
    remap = np.cumsum(used) - 1
    vertices, faces = vertices[used], remap[faces]
    area = surface_area(vertices, faces)
    if not np.isfinite(area) or area <= 0:
        raise BrokenMesh("zero surface area (every triangle degenerate)")
    return vertices, faces


def surface_area(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Total area of the triangles, in the vertices' units squared."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return float(0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum())


def up_rotation(up: str) -> np.ndarray:
    """The rotation (3, 3) that turns the axis ``up`` (one of :data:`UP_AXES`) onto +z.

    For y-up files it also turns their front, +z by the glTF and Sweet Home 3D convention, onto
    +y, a side the isometric camera (from (1, 1, 1)) sees: ``"y"`` maps (x, y, z) ↦ (−x, z, y),
    ``"-y"`` (x, y, z) ↦ (x, z, −y). ``"z"`` is the identity (the camera sees the +x, +y, +z
    sides). Every result is a proper rotation (determinant +1): no shape is mirrored.
    """
    if up not in UP_AXES:
        raise ValueError(f"up: expected one of {UP_AXES}, found {up!r}")
    rotations = {
        "z": np.eye(3),
        "-z": np.diag([1.0, -1.0, -1.0]),
        "y": np.array([[-1.0, 0, 0], [0, 0, 1], [0, 1, 0]]),
        "-y": np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]),
        "x": np.array([[0, 0, -1.0], [0, 1, 0], [1, 0, 0]]),
        "-x": np.array([[0, 0, 1.0], [0, 1, 0], [-1, 0, 0]]),
    }
    return rotations[up]


def normalise(vertices: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray, float]:
    """(normalised vertices (V, 3), centre (3,), scale): ``normalised = (vertices − centre) · scale``.

    ``mode``: ``"box"`` (longest bounding-box side 1) or ``"ball"`` (farthest vertex at 1), both
    about the bounding box's centre. Raises ValueError for another mode.
    """
    if mode not in NORMALISATIONS:
        raise ValueError(f"normalize: expected one of {NORMALISATIONS}, found {mode!r}")
    low, high = vertices.min(0), vertices.max(0)
    centre = (low + high) / 2
    shifted = vertices - centre
    size = float((high - low).max()) if mode == "box" else float(np.linalg.norm(shifted, axis=1).max())
    scale = 1.0 / size
    return shifted * scale, centre, scale


def extent_of(mode: str) -> float:
    """The farthest any normalised shape reaches from the origin (the renderer's common extent):
    √3/2 for unit boxes, 1 for unit balls."""
    return float(np.sqrt(3.0) / 2) if mode == "box" else 1.0
