"""The ``svrlens`` command: parses arguments and calls the library; nothing else lives here.

The error boundary: a failure caused by the user's input (a bad option, a missing or corrupt
file, an invalid array, a full disk) is an :class:`~svrlens.errors.InputError`, printed as one
line ``svrlens: error: ...`` with exit code 2 and no traceback. Anything else is a bug in
svrlens: its traceback is printed, then a line asking to report it, and the exit code is 1.

Each subcommand is a small block: a ``_cmd_<name>(args)`` function and the lines in
:func:`build_parser` that add its parser (the ``data`` subcommands: ``_cli_data``). Options
that configure the work come from the entry point's typed configuration
(:func:`svrlens.options.add_options`: type, range, help text with default and unit), so the
command line and spec files accept exactly the same values.
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
_MODEL_OPTIONS = ("grid_size", "decoder_width", "decoder_blocks", "eval_grid_size")


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


_EVALUATION_OPTIONS = ("thresholds", "relative", "n_bootstrap", "confidence", "null_references", "seed")
# What a diagnosis directory holds: an earlier one is replaced whole, anything else is refused.
_DIAGNOSIS_FILES = ("diagnosis.json", "summary.txt", "figures", "matrices.npz", "results.json", "report.html")


def _evaluation_config(args):
    from svrlens.evaluation import EvaluationConfig
    from svrlens.options import from_args

    return from_args(EvaluationConfig, args, _EVALUATION_OPTIONS)


def _diagnose_into(out, run, name: str) -> int:
    """Run ``run(staging directory)`` (a diagnosis), add results.json and report.html, and publish
    the whole directory at ``out`` at once (nothing of it is left if any step fails)."""
    from svrlens.evaluation import format_summary
    from svrlens.experiments.sweep import write_diagnosis_results
    from svrlens.io import published_directory
    from svrlens.report import build_report

    with published_directory(out, owned=_DIAGNOSIS_FILES) as staging:
        result = run(staging)
        write_diagnosis_results(result, staging, name=name)
        build_report(staging, title=f"svrlens diagnosis — {name}")
    print(format_summary(result))
    print(f"\nwrote {out}/diagnosis.json, {out}/summary.txt and {out}/report.html")
    return 0


def _cmd_diagnose(args) -> int:
    from svrlens.evaluation import run_diagnosis

    config = _evaluation_config(args)
    return _diagnose_into(
        args.out,
        lambda staging: run_diagnosis(
            args.train,
            args.predictions,
            test_dataset=args.test,
            out_dir=staging,
            config=config,
            cache_dir=args.cache,
            save_matrices=True,
            progress=not args.quiet,
        ),
        args.name,
    )


def _cmd_evaluate(args) -> int:
    from pathlib import Path

    from svrlens.evaluation import evaluate_run

    config = _evaluation_config(args)
    out = Path(args.out or Path(args.run) / "diagnosis")
    return _diagnose_into(
        out,
        lambda staging: evaluate_run(args.run, out_dir=staging, config=config, progress=not args.quiet),
        Path(args.run).name,
    )


def _cmd_calibrate(args) -> int:
    from pathlib import Path

    from svrlens.evaluation.calibration import calibrate
    from svrlens.io import published_directory

    config = _evaluation_config(args)
    owned = ("calibration.json", "calibration.png", "calibration.svg")
    with published_directory(args.out, owned=owned) as staging:
        report = calibrate(args.dataset, out_dir=staging, config=config, progress=not args.quiet)
    print(
        f"{'predictor':36s} {'expected':>15s} {'verdict':>15s} {'gain':>6s} {'interval':>14s} {'Chamfer':>8s}"
    )
    for row in report["rows"]:
        low, high = row["interval"]
        mark = "" if row["expected"] is None else ("  ok" if row["expected"] == row["verdict"] else "  WRONG")
        print(
            f"{row['name']:36s} {row['expected'] or '–':>15s} {row['verdict']:>15s} {row['value']:6.2f} "
            f"[{low:5.2f}, {high:5.2f}] {row['chamfer']:8.4f}{mark}"
        )
    print(f"wrote {Path(args.out) / 'calibration.json'} and {Path(args.out) / 'calibration.png'}")
    return 0


def _cmd_reproduce(args) -> int:
    import json

    from svrlens.experiments import RayExecutor, load_spec, local_executor, preset_spec, reproduce
    from svrlens.experiments.sweep import format_results
    from svrlens.report import build_report

    spec = load_spec(args.spec) if args.spec else preset_spec(args.preset)
    if args.print_spec:
        print(json.dumps(spec.to_dict(), indent=1))
        return 0
    threads = args.cpus_per_run or 1
    if args.ray or args.ray_address:
        executor = RayExecutor(address=args.ray_address, cpus_per_run=threads)
    else:
        executor = local_executor(jobs=args.jobs, threads=threads)
    results = reproduce(spec, args.out, executor=executor, progress=not args.quiet)
    print(format_results(results))
    print(f"wrote {args.out}/results.json and {build_report(args.out)}")
    return 0


def _cmd_report(args) -> int:
    from svrlens.report import build_report

    print(f"wrote {build_report(args.out_dir)}")
    return 0


def _add_evaluation_options(parser) -> None:
    """The options of an EvaluationConfig (svrlens.evaluation.config): diagnose, evaluate, calibrate."""
    from svrlens.evaluation import EvaluationConfig
    from svrlens.options import add_options

    add_options(parser, EvaluationConfig, _EVALUATION_OPTIONS)
    _quiet_option(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="svrlens", description="Does a single-view 3D reconstruction network reconstruct, or recognise?"
    )
    parser.add_argument("--version", action="version", version=f"svrlens {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _parsers_for_models(commands)
    _parsers_for_diagnosis(commands)
    from svrlens._cli_data import add_data_parsers

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


def _parsers_for_diagnosis(commands) -> None:
    """diagnose, reproduce, report, evaluate, calibrate."""
    diagnose = commands.add_parser(
        "diagnose", help="recognition or reconstruction? diagnose any model's predictions"
    )
    diagnose.add_argument(
        "--train", required=True, help="dataset directory whose 'train' split the model was trained on"
    )
    diagnose.add_argument(
        "--predictions",
        required=True,
        help="PRED.npz with points (N, P, 3) for the test split (optional indices)",
    )
    diagnose.add_argument(
        "--test", help="dataset directory whose 'test' split was predicted (default: --train)"
    )
    diagnose.add_argument(
        "--out",
        default="diagnosis",
        help="output directory, written whole or not at all (default: ./diagnosis)",
    )
    diagnose.add_argument(
        "--cache",
        help="directory for resumable blocks of every Chamfer matrix (large data: a killed run "
        "resumes; default: none)",
    )
    diagnose.add_argument(
        "--name", default="your data", help="the data set's name in the report (default: 'your data')"
    )
    _add_evaluation_options(diagnose)
    diagnose.set_defaults(func=_cmd_diagnose)

    reproduce = commands.add_parser(
        "reproduce", help="the paper's sweeps end to end (figs. 3-8), results.json and report.html"
    )
    reproduce.add_argument(
        "--preset",
        choices=["quick", "laptop", "paper", "full"],
        default="laptop",
        help="quick (a smoke run in minutes, not the result), laptop (default, 41 min on 2 CPU cores), "
        "paper (GPU), full",
    )
    reproduce.add_argument(
        "--spec", help="an experiment spec JSON file instead of a preset (see --print-spec; default: none)"
    )
    reproduce.add_argument(
        "--out",
        default="svrlens-results",
        help="output directory; re-running skips finished runs, resumes killed ones "
        "(default: ./svrlens-results)",
    )
    reproduce.add_argument(
        "--ray", action="store_true", help="run each model as a Ray task (local instance, or RAY_ADDRESS)"
    )
    reproduce.add_argument(
        "--ray-address",
        help="Ray cluster address (auto, ray://host:10001); implies --ray (default: none, or RAY_ADDRESS)",
    )
    reproduce.add_argument(
        "--jobs",
        type=_count(1),
        metavar="N",
        help="runs trained at once on this machine, each in its own process "
        "(default: one per CPU core, or 1 with a GPU); 1 trains in this process",
    )
    reproduce.add_argument(
        "--cpus-per-run",
        type=_count(1),
        metavar="N",
        help="CPU threads per run (default: 1, so the numbers do not depend on the machine's core count)",
    )
    reproduce.add_argument(
        "--print-spec", action="store_true", help="print the spec as JSON (a template for --spec) and exit"
    )
    _quiet_option(reproduce)
    reproduce.set_defaults(func=_cmd_reproduce)

    report = commands.add_parser("report", help="rebuild report.html from a results directory")
    report.add_argument("out_dir", help="directory holding results.json (of reproduce or diagnose)")
    report.set_defaults(func=_cmd_report)

    evaluate = commands.add_parser("evaluate", help="diagnose a svrlens training run (report.html included)")
    evaluate.add_argument("run", help="run directory of 'svrlens train'")
    evaluate.add_argument(
        "--out", help="output directory, written whole or not at all (default: RUN/diagnosis)"
    )
    _add_evaluation_options(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    calibrate = commands.add_parser(
        "calibrate",
        help="run the diagnosis on idealised predictors whose answer is known (recognisers, "
        "reconstructors, interpolators, collapse) and plot the verdict's statistic against them",
    )
    calibrate.add_argument(
        "dataset", help="a svrlens dataset directory or a user folder (train and test splits)"
    )
    calibrate.add_argument("--out", default="calibration", help="output directory (default: ./calibration)")
    _add_evaluation_options(calibrate)
    calibrate.set_defaults(func=_cmd_calibrate)


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
