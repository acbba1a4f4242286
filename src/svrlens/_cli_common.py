"""What every ``svrlens`` subcommand module shares: the one-line-error parser and option helpers."""

from __future__ import annotations

import argparse


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) with exit code 2."""

    def error(self, message):
        self.exit(2, f"svrlens: error: {' '.join(message.split())}\n")


def count(low: int = 1):
    """An argparse type: an integer ≥ ``low`` (a bad value is argparse's one-line error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {low}, found {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {low}, found {value}")
        return value

    return parse


def seed_option(parser, what: str = "random seed") -> None:
    parser.add_argument("--seed", type=count(0), default=0, metavar="N", help=f"{what} (default: 0)")


def quiet_option(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
