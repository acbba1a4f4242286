"""``svrlens data …``: synth, subsample, build, inspect, preview, export (parsers and handlers).

Like every subcommand, each is a ``_cmd_<name>(args)`` that parses nothing and calls the
library, and the lines of :func:`add_data_parsers` that add its parser.
"""

from __future__ import annotations

from svrlens._cli_common import Parser as _Parser
from svrlens._cli_common import count as _count
from svrlens._cli_common import quiet_option as _quiet_option
from svrlens._cli_common import seed_option as _seed_option
from svrlens.errors import InputError

_SYNTH_OPTIONS = (
    "family",
    "n_shapes",
    "n_points",
    "image_size",
    "mesh_resolution",
    "mode",
    "size",
    "sampling",
    "dense_points",
    "seed",
)


def _cmd_data_synth(args) -> int:
    from svrlens.data import SynthConfig, synthesize
    from svrlens.options import from_args

    config = from_args(SynthConfig, args, _SYNTH_OPTIONS)
    try:
        config.resolved()  # the memory bound: refused before anything is generated
    except ValueError as error:
        fields = "n_shapes (--shapes), image_size, n_points, dense_points"
        raise InputError(
            str(error).replace(fields, "--shapes, --image-size, --points, --dense-points")
        ) from None
    path = synthesize(config, args.out, progress=not args.quiet, overwrite=args.force)
    print(f"wrote {path}")
    return 0


def _cmd_data_subsample(args) -> int:
    from svrlens.data import load_dataset, write_family

    paths = write_family(load_dataset(args.base), args.family, args.out, overwrite=args.force)
    for path in paths:
        print(f"wrote {path}")
    print(f"wrote {args.out}/coverage-{args.family}.png")
    return 0


def _cmd_data_inspect(args) -> int:
    from svrlens.experiments.inspect import inspect_dataset
    from svrlens.io import write_json

    summary = inspect_dataset(args.dataset, split=args.split, progress=not args.quiet, random_state=args.seed)
    print(f"dataset      {summary['path']} ({summary['generator']})")
    print(
        f"samples      {summary['samples']}, {summary['points']} points, "
        f"images {summary['image_size'][0]}x{summary['image_size'][1]}"
    )
    print("splits       " + ", ".join(f"{name} {size}" for name, size in summary["splits"].items()))
    for key, label in (("image_tendency", "images (ℓ1)"), ("shape_tendency", "shapes (Chamfer)")):
        t = summary[key]
        print(
            f"{args.split} {label:17s} tendency {t['score']:.3f} "
            f"[{t['interval'][0]:.3f}, {t['interval'][1]:.3f}], "
            f"K={t['n_clusters']}, preference {t['preference']:.4g}"
        )
    if args.json:
        write_json(args.json, summary)
    return 0


def _cmd_data_preview(args) -> int:
    from svrlens.data.figures import preview_figure
    from svrlens.data.folder import open_dataset

    figure = preview_figure(
        open_dataset(args.dataset), args.out, count=args.count, split=args.split, seed=args.seed
    )
    print(f"wrote {figure}")
    return 0


def _cmd_data_export(args) -> int:
    from svrlens.data.export import export_folder

    out = export_folder(
        args.dataset, args.out, indices=args.indices, file_format=args.format, force=args.force
    )
    shapes = len(list((out / "shapes").iterdir()))
    meshes = " and meshes/" if (out / "meshes").is_dir() else ""
    print(f"wrote {shapes} samples to {out}: images/, shapes/{meshes}, split.json (a user folder)")
    return 0


_BUILD_OPTIONS = (
    "layout",
    "normalize",
    "up",
    "views",
    "n_views",
    "azimuth",
    "elevation",
    "image_size",
    "n_points",
    "dense_points",
    "split",
    "val_fraction",
    "categories",
    "max_per_category",
    "seed",
)


def _cmd_data_build(args) -> int:
    from svrlens.data.build import BuildConfig, build_dataset
    from svrlens.options import from_args

    config = from_args(BuildConfig, args, _BUILD_OPTIONS)
    try:
        config.validate()  # the checks across fields (views and their count, split fractions, ranges)
    except ValueError as error:
        raise InputError(str(error)) from None
    result = build_dataset(
        args.meshes,
        args.out,
        config,
        jobs=args.jobs,
        memory_mb=args.memory_per_worker or None,
        chunk_size=args.chunk_size,
        force=args.force,
        progress=not args.quiet,
    )
    resumed = f", {result.resumed} meshes taken from the interrupted build" if result.resumed else ""
    print(
        f"built {result.shapes} shapes ({result.samples} samples) of the {result.layout} layout into "
        f"{result.path} in {result.seconds:.1f} s{resumed}"
    )
    print(f"skipped {len(result.skipped)} meshes" + (":" if result.skipped else ""))
    for name, reason in result.skipped:
        print(f"  {name}: {reason}")
    return 0


def _add_data_build(data_commands) -> None:
    """``svrlens data build``: a mesh collection into a dataset (svrlens.data.build)."""
    from svrlens.data.build import BuildConfig
    from svrlens.options import add_options

    build = data_commands.add_parser(
        "build",
        help="build a dataset from a mesh collection (ShapeNetCore v1/v2, ModelNet, <category>/<name>.obj|…)",
    )
    build.add_argument("meshes", help="the mesh collection's root directory")
    build.add_argument("--out", required=True, help="dataset directory to write")
    add_options(build, BuildConfig, _BUILD_OPTIONS)
    build.add_argument(
        "--jobs",
        type=_count(0),
        metavar="N",
        help="worker processes (default: one per core; 0: this process)",
    )
    build.add_argument(
        "--memory-per-worker",
        type=_count(0),
        default=4096,
        metavar="MIB",
        help="each worker's memory bound in MiB; a mesh needing more is skipped (default: 4096; 0: none)",
    )
    build.add_argument(
        "--chunk-size",
        type=_count(1),
        default=16,
        metavar="N",
        help="meshes per saved chunk, the unit of resuming (default: 16)",
    )
    build.add_argument(
        "--force", action="store_true", help="replace --out, and discard an unfinished build of other options"
    )
    _quiet_option(build)
    build.set_defaults(func=_cmd_data_build)


def add_data_parsers(commands) -> None:
    """data synth, subsample, build, inspect, preview, export."""
    from svrlens.data import SynthConfig
    from svrlens.data.subsample import FAMILY_BASE
    from svrlens.options import add_options

    data = commands.add_parser("data", help="datasets: synth, subsample, build, inspect, preview, export")
    data_commands = data.add_subparsers(
        dest="data_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    synth = data_commands.add_parser(
        "synth", help="generate base dataset #1 (cube-sphere) or #2 (cube-pyramid-sphere)"
    )
    synth.add_argument("--out", required=True, help="dataset directory to write")
    add_options(synth, SynthConfig, _SYNTH_OPTIONS)
    synth.add_argument("--force", action="store_true", help="replace an existing directory")
    _quiet_option(synth)
    synth.set_defaults(func=_cmd_data_synth)

    sub = data_commands.add_parser(
        "subsample", help="write the seven subsampled sets of a family (1.1, 1.2, 2.1, 2.2)"
    )
    sub.add_argument("base", help="base dataset directory")
    sub.add_argument("--family", required=True, choices=sorted(FAMILY_BASE), help="the family of sets")
    sub.add_argument("--out", required=True, help="directory that receives <family>.1 … <family>.7")
    sub.add_argument("--force", action="store_true", help="replace sets of the family already in --out")
    sub.set_defaults(func=_cmd_data_subsample)

    inspect = data_commands.add_parser(
        "inspect", help="counts, splits and the clustering tendency of the training images and shapes"
    )
    inspect.add_argument("dataset", help="a svrlens dataset directory or a user folder")
    inspect.add_argument("--split", default="train", help="the split measured (default: train)")
    inspect.add_argument("--json", help="also write the summary to this JSON file (default: none)")
    _seed_option(inspect, "seed of the clusterings and bootstraps")
    _quiet_option(inspect)
    inspect.set_defaults(func=_cmd_data_inspect)

    preview = data_commands.add_parser("preview", help="contact sheet of images and point clouds")
    preview.add_argument("dataset", help="a svrlens dataset directory or a user folder")
    preview.add_argument("--out", required=True, help="PNG to write (an SVG is written beside it)")
    preview.add_argument("--count", type=_count(1), default=8, metavar="N", help="samples shown (default: 8)")
    preview.add_argument("--split", default="train", help="the split shown (default: train)")
    _seed_option(preview, "seed of the samples chosen")
    preview.set_defaults(func=_cmd_data_preview)

    export = data_commands.add_parser(
        "export",
        help="write a dataset as a user folder: images/, shapes/ (its clouds), meshes/ (synthetic bases), "
        "split.json, files named by sample index",
    )
    export.add_argument("dataset", help="dataset directory")
    export.add_argument("--out", required=True, help="folder to write, whole or not at all")
    export.add_argument("--force", action="store_true", help="replace an earlier export in --out")
    export.add_argument("--format", choices=["ply", "obj"], default="ply", help="mesh format (default: ply)")
    export.add_argument(
        "--indices", type=_count(0), nargs="+", metavar="I", help="shapes to export (default: all)"
    )
    export.set_defaults(func=_cmd_data_export)
    _add_data_build(data_commands)
