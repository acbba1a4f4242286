"""Mesh collections on disk: which layout a folder is in, and the meshes it holds.

::

    shapenet-v1   ROOT/<synset>/<model>/model.obj
    shapenet-v2   ROOT/<synset>/<model>/models/model_normalized.obj
    modelnet      ROOT/<class>/{train,test}/<name>.off          (its train / test split is kept)
    generic       ROOT/<category>/<name>.obj|off|ply|stl|glb    (files directly in ROOT: the
                                                                 category is ROOT's own name)

The category of a mesh is its first folder (a ShapeNet synset id, a ModelNet class, a folder
name); a mesh's name is ``<category>/<model or file stem>``. :func:`detect_mesh_layout` tries
the layouts in the order above and takes the first that matches any file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from svrlens.errors import InputError

from .meshes import MESH_SUFFIXES

MESH_LAYOUTS = ("shapenet-v1", "shapenet-v2", "modelnet", "generic")
# The up axis each layout's meshes are modelled with (ShapeNet and OBJ / glTF: +y; ModelNet: +z).
LAYOUT_UP = {"shapenet-v1": "y", "shapenet-v2": "y", "modelnet": "z", "generic": "y"}


@dataclass(frozen=True)
class MeshEntry:
    """One mesh of a collection: ``name`` ("category/model"), ``category``, ``path`` and the
    layout's own ``split`` ("train" / "test" for ModelNet, else None)."""

    name: str
    category: str
    path: str
    split: str | None = None


def _is_mesh(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in MESH_SUFFIXES


def detect_mesh_layout(root) -> str:
    """The layout of the mesh collection at ``root`` (see the module docstring).

    Raises
    ------
    InputError
        ``root`` is not a directory, or holds no mesh in any layout.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError("no such directory of meshes" if not root.exists() else "expected a directory", root)
    if any(root.glob("*/*/model.obj")):
        return "shapenet-v1"
    if any(root.glob("*/*/models/model_normalized.obj")):
        return "shapenet-v2"
    if any(root.glob("*/train/*.off")) or any(root.glob("*/test/*.off")):
        return "modelnet"
    if any(_is_mesh(p) for p in root.glob("*/*")) or any(_is_mesh(p) for p in root.glob("*")):
        return "generic"
    raise InputError(
        f"no meshes found in any layout ({', '.join(MESH_LAYOUTS)}; files {'|'.join(MESH_SUFFIXES)})", root
    )


def _shapenet(root: Path, relative: str) -> list[MeshEntry]:
    entries = []
    for path in sorted(root.glob(f"*/*/{relative}")):
        category, model = path.relative_to(root).parts[:2]
        entries.append(MeshEntry(f"{category}/{model}", category, str(path)))
    return entries


def _modelnet(root: Path) -> list[MeshEntry]:
    entries = []
    for split in ("train", "test"):
        for path in sorted(root.glob(f"*/{split}/*.off")):
            category = path.parent.parent.name
            entries.append(MeshEntry(f"{category}/{path.stem}", category, str(path), split))
    return sorted(entries, key=lambda e: e.name)


def _generic(root: Path) -> list[MeshEntry]:
    entries = [
        MeshEntry(f"{root.name}/{p.stem}", root.name, str(p)) for p in sorted(root.iterdir()) if _is_mesh(p)
    ]
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if _is_mesh(path):
                entries.append(MeshEntry(f"{folder.name}/{path.stem}", folder.name, str(path)))
    return entries


def find_meshes(
    root, *, layout: str = "auto", categories=None, max_per_category: int | None = None
) -> tuple[str, list[MeshEntry]]:
    """The layout (resolved) and the meshes of the collection at ``root``, sorted by name.

    Parameters
    ----------
    root : path
    layout : str, default="auto"
        One of :data:`MESH_LAYOUTS`, or "auto" (:func:`detect_mesh_layout`).
    categories : iterable of str, optional
        Keep only these categories (each must exist).
    max_per_category : int, optional
        Keep the first ``max_per_category`` meshes of each category, by name.

    Raises
    ------
    InputError
        An unknown layout or category, two meshes of one name (``chair/a.obj`` and
        ``chair/a.ply``), or no mesh at all.
    """
    root = Path(root)
    if layout == "auto":
        layout = detect_mesh_layout(root)
    elif layout not in MESH_LAYOUTS:
        raise InputError(f"--layout: expected auto or one of {', '.join(MESH_LAYOUTS)}, found {layout!r}")
    elif not root.is_dir():
        raise InputError("no such directory of meshes", root)
    if layout == "shapenet-v1":
        entries = _shapenet(root, "model.obj")
    elif layout == "shapenet-v2":
        entries = _shapenet(root, "models/model_normalized.obj")
    elif layout == "modelnet":
        entries = _modelnet(root)
    else:
        entries = _generic(root)
    seen = {}
    for entry in entries:
        if entry.name in seen:
            raise InputError(f"two meshes named {entry.name!r}: {seen[entry.name]} and {entry.path}", root)
        seen[entry.name] = entry.path
    if categories is not None:
        categories = list(categories)
        present = {e.category for e in entries}
        missing = [c for c in categories if c not in present]
        if missing:
            raise InputError(f"--categories: no category {missing[0]!r} (found {sorted(present)[:12]})", root)
        entries = [e for e in entries if e.category in categories]
    if max_per_category is not None:
        if max_per_category < 1:
            raise InputError(f"--max-per-category: expected ≥ 1, found {max_per_category}")
        counts: dict = {}
        kept = []
        for entry in entries:
            counts[entry.category] = counts.get(entry.category, 0) + 1
            if counts[entry.category] <= max_per_category:
                kept.append(entry)
        entries = kept
    if not entries:
        raise InputError(f"no meshes in the {layout} layout", root)
    return layout, entries
