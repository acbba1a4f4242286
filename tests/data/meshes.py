"""Tiny meshes written in the test, in every mesh layout and file format `svrlens data build` reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

BOX_FACES = np.array(
    [
        [0, 2, 1], [0, 3, 2],  # z = 0 (bottom, facing -z)
        [4, 5, 6], [4, 6, 7],  # z = 1 (top)
        [0, 1, 5], [0, 5, 4],  # y = 0
        [1, 2, 6], [1, 6, 5],  # x = 1
        [2, 3, 7], [2, 7, 6],  # y = 1
        [3, 0, 4], [3, 4, 7],  # x = 0
    ]
)  # fmt: skip


def box(size=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """A closed, outward-wound box: vertices (8, 3), faces (12, 3)."""
    corners = np.array(
        [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]]
    )
    return corners * np.asarray(size, float) + np.asarray(origin, float), BOX_FACES.copy()


def open_box(size=(1.0, 1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """A box without its top (z = max) face: not watertight, its inside visible from above."""
    vertices, faces = box(size)
    return vertices, faces[[0, 1, 4, 5, 6, 7, 8, 9, 10, 11]]


def merged(*parts) -> tuple[np.ndarray, np.ndarray]:
    """One mesh from several (vertices, faces) parts."""
    offsets = np.cumsum([0] + [len(v) for v, _ in parts])
    return np.concatenate([v for v, _ in parts]), np.concatenate([f + o for (_, f), o in zip(parts, offsets)])


def asymmetric() -> tuple[np.ndarray, np.ndarray]:
    """A tall box with a small box on one side: no rotation maps it onto itself (z up)."""
    return merged(box((1.0, 0.6, 2.0)), box((0.4, 0.4, 0.4), origin=(1.0, 0.0, 0.2)))


def write_obj(path, vertices, faces, parts=None) -> Path:
    """An OBJ file; ``parts``: (name, face indices) groups written as separate ``o`` objects."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["mtllib missing.mtl"] + [f"v {x:.9g} {y:.9g} {z:.9g}" for x, y, z in vertices]
    for name, index in parts or [("mesh", np.arange(len(faces)))]:
        lines += [f"o {name}", "usemtl wood"] + [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces[index]]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_off(path, vertices, faces) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = [f"{x:.9g} {y:.9g} {z:.9g}" for x, y, z in vertices] + [f"3 {a} {b} {c}" for a, b, c in faces]
    path.write_text(f"OFF\n{len(vertices)} {len(faces)} 0\n" + "\n".join(body) + "\n")
    return path


def write_mesh(path, vertices, faces) -> Path:
    """Any format by the suffix: .obj and .off as text here, .ply, .stl and .glb through trimesh."""
    import trimesh

    path = Path(path)
    if path.suffix == ".obj":
        return write_obj(path, vertices, faces)
    if path.suffix == ".off":
        return write_off(path, vertices, faces)
    path.parent.mkdir(parents=True, exist_ok=True)
    trimesh.Trimesh(vertices, faces, process=False).export(path)
    return path


def layout_path(
    root, layout: str, category: str, name: str, suffix: str = ".obj", split: str = "train"
) -> Path:
    """Where a mesh goes in ``layout`` (ModelNet needs .off)."""
    root = Path(root)
    if layout == "shapenet-v1":
        return root / category / name / "model.obj"
    if layout == "shapenet-v2":
        return root / category / name / "models" / "model_normalized.obj"
    if layout == "modelnet":
        return root / category / split / f"{name}.off"
    return root / category / f"{name}{suffix}"


def small_collection(
    root, layout: str = "generic", *, per_category: int = 5, suffixes=(".obj",)
) -> list[str]:
    """Two categories of boxes of varied proportions (``per_category`` each); returns the names.
    ModelNet meshes alternate between train and test."""
    names = []
    for c, category in enumerate(("chair", "table")):
        for k in range(per_category):
            size = (1.0 + 0.2 * k, 1.0 + c, 0.5 + 0.1 * k)
            suffix = ".off" if layout == "modelnet" else suffixes[k % len(suffixes)]
            split = "test" if k % 2 else "train"
            write_mesh(layout_path(root, layout, category, f"m{k}", suffix, split), *box(size))
            names.append(f"{category}/m{k}")
    return names


def broken_meshes(folder) -> dict:
    """Files that must be reported and skipped: file name → a word of the expected reason."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "garbage.obj").write_text("this is not a mesh\nv 1 2\nf 1 2 3\n")
    write_off(folder / "unused.off", np.random.default_rng(0).random((10, 3)), np.array([[0, 1, 2]]))
    (folder / "nan.obj").write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n")
    (folder / "flat.obj").write_text("v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n")
    import trimesh

    trimesh.PointCloud(np.random.default_rng(1).random((20, 3))).export(folder / "cloud.ply")
    return {"garbage": "unreadable", "unused": "unused", "nan": "non-finite", "flat": "zero surface area",
            "cloud": "no faces"}  # fmt: skip
