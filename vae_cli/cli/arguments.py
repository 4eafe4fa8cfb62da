"""Argument types, the help formatter and the option groups that several commands share."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from collections.abc import Callable
from typing import Any

from vae_cli import defaults

HELP_WIDTH = 100  # columns of help text, however wide the terminal


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Shows "(default: X)" after every option that has a meaningful default and does not say it;
    wraps to the terminal, at most HELP_WIDTH columns."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        if width is None:
            width = min(HELP_WIDTH, shutil.get_terminal_size().columns - 2)
        super().__init__(prog, indent_increment, max_help_position, width)

    def _split_lines(self, text: str, width: int) -> list[str]:
        # Never inside a file name or a package name: "kl-per-dim.png", "vae-cli[tsne]".
        text = " ".join(text.split())
        return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "(default" in text or not action.option_strings or default is None or default is False or default == []:
            return text
        if default is argparse.SUPPRESS:
            return text
        return f"{text} (default: %(default)s)"


def int_at_least(low: int) -> Callable[[str], int]:
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


positive_int = int_at_least(1)
index = int_at_least(0)
ALL = "all"


def count_or_all(text: str) -> int | None:
    """A positive count, or ``all`` (None): no limit."""
    return None if text.strip().lower() == ALL else positive_int(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


def add_parser(sub: Any, name: str, help: str, description: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, formatter_class=Formatter, help=help, description=description)
    p.set_defaults(command=name)
    return p


def add_run_args(parser: argparse.ArgumentParser, out_default: str | None, data: bool = True) -> None:
    parser.add_argument(
        "--run",
        metavar="DIR",
        default=None,
        help="run folder to use (default: the most recent run under --output-dir)",
    )
    parser.add_argument("--output-dir", metavar="DIR", default=defaults.OUTPUT_DIR, help="where to look for runs")
    if out_default:
        parser.add_argument(
            "--out", metavar="FILE", default=None, help=f"PNG, PDF or SVG file to write (default: {out_default})"
        )
    if data:
        parser.add_argument(
            "--data-dir",
            metavar="DIR",
            default=None,
            help="folder with the dataset's IDX files (default: as for the run, or the folder it was trained from)",
        )


def add_seed(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--seed", metavar="N", type=index, default=defaults.SEED, help=f"seed that picks {what}")
