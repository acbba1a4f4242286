"""``svrlens data build``: a mesh collection → a svrlens dataset (images, training and dense clouds).

For every mesh of the collection (:mod:`.layouts`): read all its parts, check it, turn it upright
and normalise it (:mod:`.meshes`); render ``n_views`` shaded images (textures ignored, drawn
two-sided: real meshes are open and inconsistently wound); sample ``n_points`` training points
and, independently, ``dense_points`` evaluation points, area-weighted across all parts. Each view
is one sample; every view of a shape shares its clouds, label and split.

Randomness: every draw of a shape is seeded by its name and the seed alone
(:mod:`.mesh_samples`), so the dataset does not depend on the order, the other meshes, or the
number of workers: the same command gives the same bytes.

Splits: the layout's own where it has one (ModelNet's train / test, with a seeded ``val_fraction``
of each category's train set held out for validation), else a seeded per-category split in the
proportions of ``split`` (default 70 / 10 / 20 % train / val / test). A shape's split depends on
the names in its category and the seed, never on which meshes failed.

Scale: the work goes in chunks of ``chunk_size`` meshes to ``jobs`` spawned worker processes,
each finished chunk saved at once in ``.<OUT>.build/`` beside ``OUT`` (a killed build re-run with
the same options continues from the chunks it finished); then the arrays are streamed into the
dataset, one chunk in memory at a time, SHA-256 computed as they are written, and the directory
renamed into place. Each worker's data segment is limited to ``memory_mb`` (Linux
``RLIMIT_DATA``): a mesh that needs more is skipped with that reason, not the machine's memory.
A mesh that cannot be read or is degenerate is skipped with its reason; the manifest lists every
skipped mesh (``skipped``), and a build in which no mesh succeeds is an error.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Literal, Optional

from pydantic import Field
from tqdm.auto import tqdm

from svrlens import __version__
from svrlens.errors import InputError
from svrlens.io import read_json, write_json
from svrlens.options import Float, Int, Seed, Str, option, parse, validated

from .assemble import assemble
from .clouds import DEFAULT_DENSE_POINTS
from .layouts import LAYOUT_UP, MESH_LAYOUTS, find_meshes
from .mesh_samples import chunk_task, worker_init
from .meshes import NORMALISATIONS, UP_AXES

VIEW_MODES = ("isometric", "random")
# 3D-R2N2 (Choy et al. 2016, tools/render_models.py): azimuth U[0, 360), elevation U[25, 30) degrees,
# no in-plane rotation; its camera distance and field of view do not apply to this orthographic renderer.
R2N2_AZIMUTH = (0.0, 360.0)
R2N2_ELEVATION = (25.0, 30.0)


@validated
class BuildConfig:
    """How a mesh collection becomes a dataset (saved in the manifest's ``parameters``).

    Attributes
    ----------
    layout : str, default="auto"
        "auto" or one of :data:`svrlens.data.layouts.MESH_LAYOUTS`.
    normalize : str, default="box"
        "box": bounding box centred, longest side 1; "ball": farthest point at distance 1.
    up : str, default="auto"
        The meshes' up axis, turned onto +z: one of x, y, z, -x, -y, -z, or "auto" (the
        layout's: z for ModelNet, y for ShapeNet and generic OBJ / glTF).
    views : str, default="isometric"
        "isometric": the paper's one view (azimuth 45°, elevation 35.26°); "random": ``n_views``
        views per shape at seeded uniform azimuth in ``azimuth`` and elevation in ``elevation``.
    n_views : int, default=1
    azimuth, elevation : (low, high) degrees, default 3D-R2N2's (0, 360) and (25, 30)
    image_size : int, default=128
        Pixels per side (8–1024).
    n_points, dense_points : int, default=1024 and 4096
        Points of the training and of the (independent) dense evaluation cloud.
    split : (train, val, test) fractions, default=(0.7, 0.1, 0.2)
        Per category, for layouts without a split of their own.
    val_fraction : float, default=0.125
        Held out of each category's train set as validation, for layouts with a split.
    categories : tuple of str or None; max_per_category : int or None
        Select part of the collection (the first meshes of each category, by name).
    seed : int, default=0
    """

    layout: Annotated[
        Literal["auto", "shapenet-v1", "shapenet-v2", "modelnet", "generic"],
        option("the collection's layout (auto: detected from its files)"),
    ] = "auto"
    normalize: Annotated[
        Literal["box", "ball"],
        option(
            "per-shape normalisation: box (bounding box centred, longest side 1) or ball "
            "(farthest point at 1)"
        ),
    ] = "box"
    up: Annotated[
        Literal["auto", "x", "y", "z", "-x", "-y", "-z"],
        option("the meshes' up axis, turned onto +z (auto: z for ModelNet, else y)"),
    ] = "auto"
    views: Annotated[
        Literal["isometric", "random"],
        option("the paper's isometric view, or --n-views seeded random views per shape"),
    ] = "isometric"
    n_views: Annotated[Int, option("views per shape with --views random", ge=1, le=1000)] = 1
    azimuth: Annotated[
        tuple[Float, Float], option("random views' azimuth range LOW HIGH (3D-R2N2's)", unit="degrees")
    ] = R2N2_AZIMUTH
    elevation: Annotated[
        tuple[Float, Float], option("random views' elevation range LOW HIGH (3D-R2N2's)", unit="degrees")
    ] = R2N2_ELEVATION
    image_size: Annotated[Int, option("image side", unit="px", ge=8, le=1024)] = 128
    n_points: Annotated[Int, option("points per training cloud", flag="--points", ge=1, le=10**6)] = 1024
    dense_points: Annotated[Int, option("points per dense evaluation cloud", ge=1, le=10**6)] = (
        DEFAULT_DENSE_POINTS
    )
    split: Annotated[
        tuple[Float, Float, Float],
        option("train / val / test fractions per category, for layouts without a split of their own"),
    ] = (0.7, 0.1, 0.2)
    val_fraction: Annotated[
        Float, option("validation share of each category's train split, for layouts with one", ge=0, lt=1)
    ] = 0.125
    categories: Annotated[Optional[tuple[Str, ...]], option("only these categories", default_text="all")] = (
        None
    )
    max_per_category: Annotated[
        Optional[Annotated[Int, Field(ge=1)]],
        option("at most this many meshes per category (the first by name)", default_text="all"),
    ] = None
    seed: Annotated[Seed, option("seed of the split, the views and the point samples")] = 0

    def validate(self) -> "BuildConfig":
        """Check every field; ValueError names it as the command-line option."""
        checks = [
            (
                self.layout in ("auto",) + MESH_LAYOUTS,
                "--layout",
                f"auto or one of {MESH_LAYOUTS}",
                self.layout,
            ),
            (self.normalize in NORMALISATIONS, "--normalize", f"one of {NORMALISATIONS}", self.normalize),
            (self.up in ("auto",) + UP_AXES, "--up", f"auto or one of {UP_AXES}", self.up),
            (self.views in VIEW_MODES, "--views", f"one of {VIEW_MODES}", self.views),
            (self.n_views >= 1, "--n-views", "≥ 1", self.n_views),
            (
                self.views == "random" or self.n_views == 1,
                "--n-views",
                "1 for the isometric view",
                self.n_views,
            ),
            (8 <= self.image_size <= 1024, "--image-size", "8–1024 pixels", self.image_size),
            (
                self.n_points >= 1 and self.dense_points >= 1,
                "--points/--dense-points",
                "≥ 1",
                (self.n_points, self.dense_points),
            ),
            (
                len(self.split) == 3
                and min(self.split) >= 0
                and abs(sum(self.split) - 1) < 1e-9
                and self.split[0] > 0,
                "--split",
                "three fractions (train > 0, val, test) summing to 1",
                tuple(self.split),
            ),
            (0 <= self.val_fraction < 1, "--val-fraction", "in [0, 1)", self.val_fraction),
            (
                len(self.azimuth) == 2 and self.azimuth[0] <= self.azimuth[1],
                "--azimuth",
                "LOW HIGH",
                self.azimuth,
            ),
            (
                len(self.elevation) == 2 and -90 < self.elevation[0] <= self.elevation[1] < 90,
                "--elevation",
                "LOW HIGH within (-90, 90)",
                self.elevation,
            ),
        ]
        for ok, flag, expected, found in checks:
            if not ok:
                raise ValueError(f"{flag}: expected {expected}, found {found!r}")
        return self

    def resolved(self, layout: str) -> "BuildConfig":
        """This config with the layout and the up axis resolved (what the manifest records)."""
        return replace(
            self,
            layout=layout,
            up=LAYOUT_UP[layout] if self.up == "auto" else self.up,
            azimuth=tuple(float(a) for a in self.azimuth),
            elevation=tuple(float(e) for e in self.elevation),
            split=tuple(float(s) for s in self.split),
            categories=None if self.categories is None else tuple(self.categories),
        )

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict, where: str = "build") -> "BuildConfig":
        """Parse and validate; unknown keys are errors (a ValueError naming ``where`` and the field)."""
        return parse(cls, data, f"{where}.").validate()


@dataclass
class BuildResult:
    """What a build ended with: the dataset's ``path``, ``layout``, shapes and samples built, the
    ``skipped`` meshes ((name, reason) each), shapes found already built (a resumed build),
    wall ``seconds`` and worker processes."""

    path: Path
    layout: str
    shapes: int
    samples: int
    skipped: list = field(default_factory=list)
    resumed: int = 0
    seconds: float = 0.0
    workers: int = 0


def _plan(meshes, entries: list, config: BuildConfig, chunk_size: int) -> dict:
    return {
        "svrlens_version": __version__,
        "source": str(Path(meshes).resolve()),
        "config": config.to_dict(),
        "chunk_size": chunk_size,
        # Size and modification time: a mesh changed since a killed build is not taken from its shard.
        "entries": [[e.name, e.category, e.path, e.split, *_stamp(e.path)] for e in entries],
    }


def _stamp(path) -> list[int]:
    stat = Path(path).stat()
    return [stat.st_size, stat.st_mtime_ns]


def _claim_staging(staging: Path, plan: dict, force: bool) -> None:
    """Start or continue the build in ``staging``; a build with another plan is refused unless ``force``."""
    plan_file = staging / "plan.json"
    if staging.exists() and (force or not plan_file.is_file()):
        shutil.rmtree(staging)
    if plan_file.is_file():
        found = read_json(plan_file)
        if found != json.loads(json.dumps(plan)):
            raise InputError(
                "holds an unfinished build of other meshes or options; re-run it with its own options, "
                "or pass --force to discard it",
                staging,
            )
        return
    (staging / "shards").mkdir(parents=True)
    write_json(plan_file, plan)


def _run_chunks(todo: list, jobs: int, memory_mb, bar) -> None:
    """Build the chunks ``todo`` ((index, entries, config, shard path)), in this process when
    ``jobs`` is 0, else in ``jobs`` spawned workers; the bar counts meshes."""
    tasks = [(index, entries, config, str(shard), memory_mb) for index, entries, config, shard in todo]
    if jobs == 0:
        for task in tasks:
            bar.update(len(chunk_task(task)[1]))
        return
    context = multiprocessing.get_context("spawn")  # a forked numba / OpenMP runtime can deadlock
    try:
        with ProcessPoolExecutor(
            jobs, mp_context=context, initializer=worker_init, initargs=(memory_mb,)
        ) as pool:
            for _, reasons in pool.map(chunk_task, tasks):
                bar.update(len(reasons))
    except BrokenProcessPool:
        raise InputError(
            f"a build worker died (over its memory bound of {memory_mb} MiB outside numpy?); "
            "re-run to continue from the finished chunks, with a larger --memory-per-worker or fewer --jobs"
        ) from None


def build_dataset(
    meshes,
    out,
    config: BuildConfig | None = None,
    *,
    jobs: int | None = None,
    memory_mb: int | None = 4096,
    chunk_size: int = 16,
    force: bool = False,
    progress: bool = True,
) -> BuildResult:
    """Build a svrlens dataset from the mesh collection at ``meshes`` into ``out``.

    Parameters
    ----------
    meshes : path
        A mesh collection in one of :data:`~svrlens.data.layouts.MESH_LAYOUTS`.
    out : path
        The dataset directory to write; must not exist (or be empty) unless ``force``.
    config : BuildConfig, default=BuildConfig()
    jobs : int or None, default=None
        Worker processes (None: one per available core); 0 builds in this process (no memory
        bound applies there).
    memory_mb : int or None, default=4096
        Each worker's data-segment limit in MiB (Linux ``RLIMIT_DATA``); None: unbounded.
    chunk_size : int, default=16
        Meshes per saved chunk (a kill loses at most the chunks in flight).
    force : bool, default=False
        Replace an existing ``out`` and discard an unfinished build of other options.

    Returns
    -------
    BuildResult

    Raises
    ------
    InputError
        No meshes, an existing ``out``, an unfinished build of other options, no mesh built.
    ValueError
        An invalid config.
    """
    started = time.perf_counter()
    config = (config or BuildConfig()).validate()
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise InputError("already exists and is not empty (pass --force to replace it)", out)
    if chunk_size < 1 or (jobs is not None and jobs < 0):
        raise ValueError(f"expected chunk_size ≥ 1 and jobs ≥ 0, found {chunk_size} and {jobs}")
    layout, entries = find_meshes(
        meshes, layout=config.layout, categories=config.categories, max_per_category=config.max_per_category
    )
    config = config.resolved(layout)
    plan = _plan(meshes, entries, config, chunk_size)
    staging = out.parent / f".{out.name}.build"
    out.parent.mkdir(parents=True, exist_ok=True)
    _claim_staging(staging, plan, force)
    chunks = [list(range(k, min(k + chunk_size, len(entries)))) for k in range(0, len(entries), chunk_size)]
    shard = lambda index: staging / "shards" / f"{index:06d}.npz"  # noqa: E731
    todo = [
        (i, [entries[k] for k in chunk], config, shard(i))
        for i, chunk in enumerate(chunks)
        if not shard(i).is_file()
    ]
    resumed = len(entries) - sum(len(chunks[i]) for i, *_ in todo)
    workers = 0 if jobs == 0 else min(jobs or _available_cpus(), max(1, len(todo)))
    with tqdm(
        total=len(entries), initial=resumed, disable=not progress, unit="mesh", desc=f"build {out.name}"
    ) as bar:
        _run_chunks(todo, workers, memory_mb, bar)
    shapes, samples, skipped = assemble(staging, plan["source"], config, entries, chunks, out)
    shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out, layout, shapes, samples, skipped, resumed, time.perf_counter() - started, workers)


def _available_cpus() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
