"""Convert Debian's Sweet Home 3D furniture catalogues to svrlens's generic mesh layout.

    apt-get install sweethome3d-furniture        # 820 OBJ models in five catalogues, 117 MB
    python examples/sweethome3d_to_generic.py --out sh3d-meshes
    svrlens data build sh3d-meshes --out sh3d-dataset

Each catalogue (``/usr/share/sweethome3d/furniture/*.sh3f``) is a ZIP holding
``PluginFurnitureCatalog.properties`` (Java properties: ``name#N``, ``category#N``, ``model#N``,
``creator#N``, sizes in cm, and ``modelRotation#N`` for some entries) and one OBJ (+ MTL and
textures) per entry. This script writes, for entry N,

    OUT/<category>/<catalogue>-<model stem>.obj    the OBJ with modelRotation#N applied to its
                                                   vertices and normals (Y stays up, as in
                                                   Sweet Home 3D; materials and textures dropped)
    OUT/catalogue.json                             per mesh: name, category, creator, licence,
                                                   catalogue, entry id, rotation, sizes (cm)

``modelRotation`` is nine numbers, a 3 × 3 matrix in row-major order that Sweet Home 3D applies
to the model's points (p' = M p) before scaling it to the catalogue's width × height × depth.
The sizes are not applied (svrlens normalises every shape itself); the script reports how many
entries' proportions differ from their catalogue sizes by more than 5 %.

Licences: the BlendSwap-CC-BY, KatorLegaz, Reallusion and Scopia catalogues are CC-BY 3.0 (or
similar): ``catalogue.json`` keeps each model's creator for attribution. This is an example, not
part of the svrlens package.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np

CATALOGUES = Path("/usr/share/sweethome3d/furniture")


def read_properties(text: str) -> dict:
    """A Java ``.properties`` file as a dict: comments, line continuations and \\uXXXX escapes."""
    lines, pending = [], ""
    for raw in text.splitlines():
        line = pending + raw.lstrip() if pending else raw.strip()
        pending = ""
        if not line or line[0] in "#!":
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        lines.append(line)
    out = {}
    for line in lines:
        match = re.match(r"((?:[^=:\s\\]|\\.)+)\s*[=:\s]\s*(.*)$", line)
        if match:
            key, value = (
                re.sub(r"\\u([0-9a-fA-F]{4})|\\(.)", lambda m: chr(int(m[1], 16)) if m[1] else m[2], part)
                for part in match.groups()
            )
            out[key] = value
    return out


def rotate_obj(text: str, rotation: np.ndarray | None) -> str:
    """The OBJ with ``v`` and ``vn`` lines rotated by ``rotation`` (3, 3) and material lines dropped."""
    out = []
    for line in text.splitlines():
        head = line.split(maxsplit=1)[0] if line.strip() else ""
        if head in ("mtllib", "usemtl"):
            continue
        if rotation is not None and head in ("v", "vn"):
            values = line.split()[1:]
            xyz = rotation @ np.array(values[:3], float)
            line = f"{head} {xyz[0]:.6g} {xyz[1]:.6g} {xyz[2]:.6g}" + "".join(f" {v}" for v in values[3:])
        out.append(line)
    return "\n".join(out) + "\n"


def _proportions_differ(text: str, sizes: list[float]) -> bool:
    """Whether the rotated model's bounding box (x, y, z) differs from the catalogue's width,
    height, depth by more than 5 % in proportion."""
    vertices = np.array(
        [line.split()[1:4] for line in text.splitlines() if line.startswith("v ")], float
    ).reshape(-1, 3)
    if not len(vertices) or min(sizes) <= 0:
        return False
    box = vertices.max(0) - vertices.min(0)
    ratio = (box / box.max()) / (np.array(sizes) / max(sizes))
    return bool(np.abs(ratio - 1).max() > 0.05)


def convert_catalogue(path: Path, out: Path, records: list) -> int:
    """Write every entry of one ``.sh3f`` catalogue; returns how many entries' proportions differ
    from their catalogue sizes (see :func:`_proportions_differ`)."""
    slug = path.stem.lower()
    differ = 0
    with zipfile.ZipFile(path) as archive:
        properties = read_properties(archive.read("PluginFurnitureCatalog.properties").decode("latin-1"))
        entries = sorted({int(m[1]) for key in properties if (m := re.fullmatch(r"name#(\d+)", key))})
        for n in entries:
            get = lambda key, n=n: properties.get(f"{key}#{n}")  # noqa: E731
            model = get("model").lstrip("/")
            rotation = None if get("modelRotation") is None else np.array(get("modelRotation").split(), float)
            rotation = None if rotation is None else rotation.reshape(3, 3)
            text = rotate_obj(archive.read(model).decode("utf-8", errors="replace"), rotation)
            sizes = [float(get(k)) for k in ("width", "height", "depth")]
            differ += _proportions_differ(text, sizes)
            category = get("category").replace("/", "-")
            target = out / category / f"{slug}-{Path(model).stem}.obj"
            if target.exists():  # two entries of one catalogue sharing a model stem
                target = target.with_name(f"{slug}-{Path(model).stem}-{n}.obj")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            records.append(
                {
                    "file": str(target.relative_to(out)),
                    "name": get("name"),
                    "category": get("category"),
                    "creator": get("creator"),
                    "licence": properties.get("license"),
                    "catalogue": path.name,
                    "id": get("id"),
                    "model_rotation": None if rotation is None else rotation.tolist(),
                    "size_cm": dict(zip(("width", "height", "depth"), sizes)),
                }
            )
    return differ


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--catalogues", type=Path, default=CATALOGUES, help=f"default: {CATALOGUES}")
    parser.add_argument("--out", type=Path, required=True, help="directory to write (must not exist)")
    args = parser.parse_args(argv)
    files = sorted(args.catalogues.glob("*.sh3f"))
    if not files:
        print(
            f"error: no *.sh3f in {args.catalogues} (apt-get install sweethome3d-furniture)", file=sys.stderr
        )
        return 2
    if args.out.exists():
        print(f"error: {args.out} already exists", file=sys.stderr)
        return 2
    staging = args.out.with_name(f".{args.out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)  # what a killed conversion left
    records, differ = [], 0
    for path in files:
        differ += convert_catalogue(path, staging, records)
    (staging / "catalogue.json").write_text(json.dumps(records, indent=1) + "\n")
    staging.rename(args.out)
    counts = {}
    for record in records:
        counts[record["category"]] = counts.get(record["category"], 0) + 1
    rotated = sum(r["model_rotation"] is not None for r in records)
    print(f"wrote {len(records)} meshes ({rotated} rotated by modelRotation) to {args.out}")
    print(", ".join(f"{category} {count}" for category, count in sorted(counts.items(), key=lambda i: -i[1])))
    print(
        f"{differ} models' proportions differ from their catalogue sizes by more than 5 % (sizes not applied)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
