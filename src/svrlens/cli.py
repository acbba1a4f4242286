"""The ``svrlens`` command: parses arguments and calls the library; nothing else lives here.

The error boundary: a failure caused by the user's input (a bad option, a missing or corrupt
file, an invalid array, a full disk) is an :class:`~svrlens.errors.InputError`, printed as one
line ``svrlens: error: ...`` with exit code 2 and no traceback. Anything else is a bug in
svrlens: its traceback is printed, then a line asking to report it, and the exit code is 1.

Each subcommand is a small block: a ``_cmd_<name>(args)`` function and the lines in
:func:`build_parser` that add its parser (the diagnosis subcommands: ``_cli_diagnosis``; the
``data`` subcommands: ``_cli_data``). Options that configure the work come from the entry point's
typed configuration (:func:`svrlens.options.add_options`: type, range, help text with default and
unit), so the command line and spec files accept exactly the same values.
"""

from __future__ import annotations

import argparse
import sys

from svrlens import __version__
from svrlens._cli_common import Parser as _Parser
from svrlens._cli_common import count as _count
from svrlens._cli_common import quiet_option as _quiet_option
from svrlens._cli_common import seed_option as _seed_option
from svrlens.errors import InputError

REPORT_BUG = (
    "svrlens: internal error: this is a bug in svrlens, not a problem with your input; please "
    "report it with the command line and the traceback above"
)


def _cmd_demo(args) -> int:
    from svrlens.experiments.demo import format_demo_table, run_demo

    rows = run_demo(n_shapes=args.shapes, n_points=args.points, seed=args.seed, progress=not args.quiet)
    print(format_demo_table(rows))
    return 0


_TENDENCY_OPTIONS = ("method", "k", "seed")


def _cmd_tendency(args) -> int:
    from pathlib import Path

    from svrlens.experiments.inspect import distances_of
    from svrlens.io import writable_path, write_json
    from svrlens.options import from_args
    from svrlens.tendency import clustering_tendency
    from svrlens.tendency.inputs import TendencyOptions, labels_for, labels_from_path

    options = from_args(TendencyOptions, args, _TENDENCY_OPTIONS)
    if options.method == "dispersion" and args.labels is not None:
        raise InputError("--labels: not with --method dispersion (k-medoids finds its own clusters)")
    if options.method != "dispersion" and args.k is not None:
        raise InputError("--k: only with --method dispersion")
    if options.method == "labels" and args.labels is None and not Path(args.input).is_dir():
        raise InputError(
            "--method labels: expected --labels L.npy (only a dataset or collection has its own)"
        )
    if args.json:
        writable_path(args.json)
    labels = None if args.labels is None else labels_from_path(args.labels)  # checked before the work
    distances, kind, found_labels = distances_of(args.input, progress=not args.quiet)
    if options.method == "dispersion":
        return _dispersion(args, options, distances, kind)
    if labels is None and options.method == "labels":
        if found_labels is None:
            raise InputError("--method labels: expected --labels L.npy (the input has no labels of its own)")
        labels = found_labels  # a dataset's or a mesh collection's own categories
    if labels is not None:
        labels = labels_for(labels, distances.shape[0], args.labels or args.input)
    result = clustering_tendency(distances, labels, method=options.method, random_state=options.seed)
    low, high = result.interval
    print(f"input        {args.input} ({kind}, N={distances.shape[0]})")
    print(
        f"method       {result.method}"
        + ("" if result.preference is None else f" (preference {result.preference:.4g})")
    )
    print(f"clusters     K={result.n_clusters}")
    print(
        f"tendency     {result.score:.4f}  [{low:.4f}, {high:.4f}] {result.confidence:.0%} bootstrap interval"
    )
    if args.json:
        payload = result.to_dict() | {
            "input": str(Path(args.input)),
            "input_kind": kind,
            "n_samples": int(distances.shape[0]),
        }
        write_json(args.json, payload)
        print(f"wrote        {args.json}")
    return 0


def _dispersion(args, options, distances, kind: str) -> int:
    """``svrlens tendency --method dispersion``: DS at each --k; "score" in the JSON is DS at the first."""
    from pathlib import Path

    from svrlens.io import write_json
    from svrlens.tendency import dispersion_score

    n = distances.shape[0]
    ks = list(options.k)
    bad = [k for k in ks if not 1 <= k < n]
    if bad:
        raise InputError(f"--k: expected 1 ≤ K < N = {n}, found {bad[0]}")
    results = [dispersion_score(distances, k, random_state=options.seed, check=k == ks[0]) for k in ks]
    print(f"input        {args.input} ({kind}, N={n})")
    print("method       dispersion score (k-medoids inertia per sample, k-medoids++ seeded)")
    for r in results:
        low, high = r.interval
        print(
            f"K={r.k:<10d} DS {r.score:.6g}  [{low:.6g}, {high:.6g}] {r.confidence:.0%} bootstrap "
            f"interval ({r.solver})"
        )
    if args.json:
        first = results[0].to_dict()
        payload = first | {
            "sweep": [r.to_dict(labels=False) for r in results],
            "input": str(Path(args.input)),
            "input_kind": kind,
            "n_samples": int(n),
        }
        write_json(args.json, payload)
        print(f"wrote        {args.json}")
    return 0


_TRAIN_OPTIONS = (
    "epochs",
    "image_size",
    "batch_size",
    "lr",
    "weight_decay",
    "val_every",
    "fscore_threshold",
    "labels",
    "weak_epochs",
    "label_weight",
    "seed",
    "device",
)
_MODEL_OPTIONS = ("grid_size", "decoder_width", "decoder_blocks", "eval_grid_size", "precision")


def _train_config(args):
    """The preset's TrainConfig with the options given; a refusal names the flag."""
    from dataclasses import asdict

    from svrlens.models import ModelConfig
    from svrlens.options import from_args
    from svrlens.training import PRESETS, TrainConfig

    values = dict(PRESETS[args.preset])
    model = from_args(ModelConfig, args, _MODEL_OPTIONS, base=asdict(values.pop("model")))
    return from_args(TrainConfig, args, _TRAIN_OPTIONS, base=values | {"model": model})


def _cmd_train(args) -> int:
    from svrlens.training import train

    config = _train_config(args)
    result = train(
        config, args.dataset, args.out, resume=args.resume, force=args.force, progress=not args.quiet
    )
    resumed = f", resumed at epoch {result.resumed_at}" if result.resumed_at else ""
    print(f"run          {result.out_dir} ({result.epochs} epochs{resumed}, {result.seconds:.1f} s in all)")
    print(f"best         epoch {result.best_epoch}, validation Chamfer {result.best_val_chamfer:.4f}")
    print(
        f"trained?     model {result.scored_train_chamfer:.4f} vs one training shape for every image "
        f"{result.baseline_train_chamfer:.4f} (Chamfer on the training split, both scored alike)"
    )
    if not result.trained:
        print(
            "svrlens: warning: the model did not train: it is no better than predicting one training "
            "shape for every image (train longer, or check the data)",
            file=sys.stderr,
        )
    print(f"predictions  {result.predictions}")
    return 0


def _cmd_predict(args) -> int:
    from svrlens.training import images_from_path, predict_images, save_predictions

    images, indices, names = images_from_path(args.images)
    points, codewords = predict_images(args.checkpoint, images, batch_size=args.batch_size)
    path = save_predictions(args.out, points, codewords, indices, names=names)
    print(f"wrote {path} ({len(points)} predictions of {points.shape[1]} points)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="svrlens", description="Does a single-view 3D reconstruction network reconstruct, or recognise?"
    )
    parser.add_argument("--version", action="version", version=f"svrlens {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _parsers_for_models(commands)
    from svrlens._cli_data import add_data_parsers
    from svrlens._cli_diagnosis import add_diagnosis_parsers

    add_diagnosis_parsers(commands)
    add_data_parsers(commands)
    return parser


def _parsers_for_models(commands) -> None:
    """demo, tendency, train, predict."""
    from svrlens.models import ModelConfig
    from svrlens.options import add_options
    from svrlens.tendency.inputs import TendencyOptions
    from svrlens.training import PRESETS, TrainConfig

    demo = commands.add_parser("demo", help="geometry + clustering tendency of a small generated example")
    demo.add_argument("--shapes", type=int, default=200, help="shapes per training set (default: 200)")
    demo.add_argument("--points", type=int, default=1024, help="points per cloud (default: 1024)")
    _seed_option(demo)
    _quiet_option(demo)
    demo.set_defaults(func=_cmd_demo)

    tendency = commands.add_parser(
        "tendency",
        help="clustering tendency (mean silhouette) or dispersion score of a distance matrix, clouds, images",
    )
    tendency.add_argument(
        "input",
        help=(
            "DIST.npy (N, N), clouds (N, P, 3) or images (N, H, W, C) .npy, a folder of *.png / "
            "*.npy clouds, a dataset (its training clouds) or a folder of meshes (sampled as data build does)"
        ),
    )
    tendency.add_argument(
        "--labels",
        help="L.npy: ground-truth cluster label per sample, used instead of clustering (default: none)",
    )
    add_options(tendency, TendencyOptions, _TENDENCY_OPTIONS)
    tendency.add_argument(
        "--json", help="write the full result (labels, scan, interval) to this JSON file (default: none)"
    )
    _quiet_option(tendency)
    tendency.set_defaults(func=_cmd_tendency)

    train = commands.add_parser("train", help="train the ResNet-18 + FoldingNet model on a dataset")
    train.add_argument("dataset", help="a svrlens dataset directory or a user folder (images/ + shapes/)")
    train.add_argument(
        "--out", required=True, help="run directory; must not hold a run unless --resume or --force"
    )
    existing = train.add_mutually_exclusive_group()
    existing.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last.pt (refused if its dataset or options differ)",
    )
    existing.add_argument("--force", action="store_true", help="replace the run in --out, starting over")
    train.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="laptop",
        help="laptop (default: 64 px, 600 epochs, 128-wide decoder on a 16 x 16 grid) or paper; "
        "the options below override it",
    )

    def per_preset(name, model=False):
        values = {p: getattr(v["model"], name) if model else v.get(name) for p, v in PRESETS.items()}
        fallback = getattr(ModelConfig(), name) if model else getattr(TrainConfig(model=ModelConfig()), name)
        values = {p: fallback if v is None else v for p, v in values.items()}
        return ", ".join(f"{'none' if v is None else v} ({p})" for p, v in values.items())

    add_options(train, TrainConfig, _TRAIN_OPTIONS, defaults={n: per_preset(n) for n in PRESETS["laptop"]})
    add_options(train, ModelConfig, _MODEL_OPTIONS, defaults={n: per_preset(n, True) for n in _MODEL_OPTIONS})
    _quiet_option(train)
    train.set_defaults(func=_cmd_train)

    predict = commands.add_parser("predict", help="predict point clouds for images with a trained checkpoint")
    predict.add_argument("checkpoint", help="best.pt or last.pt of a run")
    predict.add_argument(
        "images",
        help="a dataset directory or user folder, a folder of PNGs, or an .npy of uint8 (N, H, W, 3)",
    )
    predict.add_argument("--out", required=True, help="PRED.npz with points, codewords, indices")
    predict.add_argument(
        "--batch-size", type=_count(1), default=64, metavar="N", help="images per forward pass (default: 64)"
    )
    predict.set_defaults(func=_cmd_predict)


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    return f"svrlens: warning: {' '.join(str(message).split())}\n"


def main(argv=None) -> int:
    """Run the command line; returns the exit code (0 done, 2 bad input, 1 a bug, 130 interrupted)."""
    import traceback
    import warnings

    warnings.formatwarning = _one_line_warning
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except InputError as error:
        print(f"svrlens: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("svrlens: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(REPORT_BUG, file=sys.stderr)
        return 1
