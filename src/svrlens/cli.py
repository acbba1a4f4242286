"""The ``svrlens`` command: parses arguments and calls the library; nothing else lives here.

Every failure caused by the user's input (a bad option, a missing or corrupt file, an invalid
array) is printed as one line ``svrlens: error: ...`` with exit code 2 and no traceback.
"""

from __future__ import annotations

import argparse
import sys

from svrlens import __version__
from svrlens.errors import InputError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) with exit code 2."""

    def error(self, message):
        self.exit(2, f"svrlens: error: {' '.join(message.split())}\n")


def _cmd_demo(args) -> int:
    from svrlens.experiments.demo import format_demo_table, run_demo

    rows = run_demo(n_shapes=args.shapes, n_points=args.points, seed=args.seed, progress=not args.quiet)
    print(format_demo_table(rows))
    return 0


def _cmd_tendency(args) -> int:
    from pathlib import Path

    from svrlens.io import load_npy, write_json
    from svrlens.tendency import clustering_tendency
    from svrlens.tendency.inputs import distances_from_path

    distances, kind = distances_from_path(args.input, progress=not args.quiet)
    labels = None
    if args.labels is not None:
        labels = load_npy(args.labels)
        if labels.shape != (distances.shape[0],):
            raise InputError(f"expected one label per sample, shape ({distances.shape[0]},), found {labels.shape}", args.labels)
    result = clustering_tendency(distances, labels, method=args.method, random_state=args.seed)
    low, high = result.interval
    print(f"input        {args.input} ({kind}, N={distances.shape[0]})")
    print(f"method       {result.method}" + ("" if result.preference is None else f" (preference {result.preference:.4g})"))
    print(f"clusters     K={result.n_clusters}")
    print(f"tendency     {result.score:.4f}  [{low:.4f}, {high:.4f}] {result.confidence:.0%} bootstrap interval")
    if args.json:
        payload = result.to_dict() | {"input": str(Path(args.input)), "input_kind": kind, "n_samples": int(distances.shape[0])}
        write_json(args.json, payload)
        print(f"wrote        {args.json}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="svrlens", description="Does a single-view 3D reconstruction network reconstruct, or recognise?")
    parser.add_argument("--version", action="version", version=f"svrlens {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = commands.add_parser("demo", help="geometry + clustering tendency of a small generated example")
    demo.add_argument("--shapes", type=int, default=200, help="shapes per training set (default: 200)")
    demo.add_argument("--points", type=int, default=1024, help="points per cloud (default: 1024)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_cmd_demo)

    tendency = commands.add_parser("tendency", help="clustering tendency (mean silhouette) of a distance matrix, clouds or images")
    tendency.add_argument("input", help="DIST.npy (N, N), clouds (N, P, 3) or images (N, H, W, C) .npy, or a folder of *.png / *.npy clouds")
    tendency.add_argument("--labels", help="L.npy: ground-truth cluster label per sample (then used instead of clustering)")
    tendency.add_argument("--method", choices=["adaptive-ap", "ap", "labels"], default="adaptive-ap", help="how clusters are found (default: adaptive-ap)")
    tendency.add_argument("--json", help="write the full result (labels, scan, interval) to this JSON file")
    tendency.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    tendency.add_argument("--quiet", action="store_true", help="no progress bars")
    tendency.set_defaults(func=_cmd_tendency)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (InputError, ValueError, OSError) as error:
        print(f"svrlens: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("svrlens: interrupted", file=sys.stderr)
        return 130
