"""``svrlens diagnose``, ``evaluate``, ``calibrate``, ``reproduce`` and ``report`` (parsers and handlers).

Like every subcommand, each is a ``_cmd_<name>(args)`` that parses nothing and calls the
library, and the lines of :func:`add_diagnosis_parsers` that add its parser.
"""

from __future__ import annotations

from svrlens._cli_common import count as _count
from svrlens._cli_common import quiet_option as _quiet_option

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


def _cmd_compare(args) -> int:
    from pathlib import Path

    from svrlens.errors import InputError
    from svrlens.experiments.compare import compare_results, format_comparison, load_results
    from svrlens.io import write_json

    labels = [args.first, args.second] if args.labels is None else [x.strip() for x in args.labels.split(",")]
    if len(labels) != 2 or not all(labels):
        raise InputError(f"--labels: expected two names separated by a comma, found {args.labels!r}")
    if labels[0] == labels[1] and args.labels is not None:
        raise InputError(f"--labels: expected two different names, found {labels[0]!r} twice")
    inputs = [
        (p / "results.json" if p.is_dir() else p).resolve() for p in map(Path, (args.first, args.second))
    ]
    if inputs[0] == inputs[1] and args.labels is None:
        raise InputError(
            f"{args.second}: the same results file twice; name the two with --labels to compare it"
        )
    outputs = _compare_outputs(args.json, args.figure)
    if set(outputs.values()) & set(inputs):
        option = next(o for o, path in outputs.items() if path in inputs)
        raise InputError(f"{option}: expected a new output file, found one of the inputs")
    first, second = load_results(args.first), load_results(args.second)
    comparison = compare_results(first, second)
    print(format_comparison(comparison, (labels[0], labels[1])))
    figures = []
    if args.figure:  # first: the likelier to fail, and then nothing is written
        from svrlens.report.figures import comparison as comparison_figure

        figures = [p for o, p in outputs.items() if o.startswith("--figure") and not p.exists()]
        print(f"wrote {comparison_figure(first, second, (labels[0], labels[1]), Path(args.figure))}")
    if args.json:
        try:
            write_json(args.json, comparison | {"labels": labels})
        except BaseException:  # nothing half-written: the figure goes with the JSON that failed
            for path in figures:
                path.unlink(missing_ok=True)
            raise
        print(f"wrote {args.json}")
    return 0


def _compare_outputs(json_path: str | None, figure: str | None) -> dict:
    """The files ``svrlens compare`` would write, by option (a .png figure has an .svg beside it),
    resolved; InputError for an empty name, a directory, or a figure of another format."""
    from pathlib import Path

    from svrlens.errors import InputError

    outputs = {}
    for option, value in (("--json", json_path), ("--figure", figure)):
        if value is None:
            continue
        if not value.strip() or value.endswith(("/", "\\")) or Path(value).is_dir():
            raise InputError(f"{option}: expected a new output file, found {value!r} (empty, or a directory)")
        outputs[option] = Path(value).resolve()
    if figure is not None:
        if Path(figure).suffix.lower() not in (".png", ".svg", ".pdf"):
            raise InputError(f"--figure: expected a .png, .svg or .pdf file, found {figure!r}")
        if Path(figure).suffix.lower() == ".png":
            outputs["--figure (its .svg)"] = outputs["--figure"].with_suffix(".svg")
    return outputs


def _add_evaluation_options(parser) -> None:
    """The options of an EvaluationConfig (svrlens.evaluation.config): diagnose, evaluate, calibrate."""
    from svrlens.evaluation import EvaluationConfig
    from svrlens.options import add_options

    add_options(parser, EvaluationConfig, _EVALUATION_OPTIONS)
    _quiet_option(parser)


def add_diagnosis_parsers(commands) -> None:
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
        choices=["quick", "laptop", "seeds", "paper", "full"],
        default="laptop",
        help="quick (a smoke run in minutes, not the result), laptop (default, 41 min on 2 cores "
        "of an AMD Zen 5), seeds (three seeds of a re-scaled laptop preset: 34 min on 2 cores of "
        "a Zen 5 host that trains 1.5-1.9x faster than the one behind laptop's 41 min; its 1.1.n runs in "
        "bfloat16 need CPU bfloat16 arithmetic or a GPU), paper (GPU), full",
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

    compare = commands.add_parser(
        "compare", help="two sweeps' results side by side: tendencies and verdicts per seed, the checks"
    )
    compare.add_argument("first", help="a sweep's results.json or its directory (e.g. the laptop preset's)")
    compare.add_argument("second", help="another sweep's results.json or its directory")
    compare.add_argument("--labels", help="two names for them, comma-separated (default: the paths)")
    compare.add_argument(
        "--figure", help="also draw fig. 4 of both to this .png (with an SVG), .svg or .pdf (default: none)"
    )
    compare.add_argument("--json", help="also write the comparison to this JSON file (default: none)")
    compare.set_defaults(func=_cmd_compare)

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
