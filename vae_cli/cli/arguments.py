"""Argument types, the help formatter and the option groups that several commands share."""

from __future__ import annotations

import argparse
import math
import shutil
import textwrap
from collections.abc import Callable
from typing import Any, NoReturn

from vae_cli import defaults
from vae_cli.errors import cut, shown
from vae_cli.limits import MAX_LATENT_VALUE, MAX_SEED

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


class Parser(argparse.ArgumentParser):
    """argparse with the house's one-line error: ``vae sample: error: argument --grid: ...; see --help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {cut(message, 300)}; see {self.prog} --help\n")


def int_between(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {shown(text)}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:,}, got {shown(value)}")
        return value

    return parse


def path_text(text: str) -> str:
    """A path as given on the command line, refused if it holds a NUL byte, which the OS would refuse or cut at."""
    if "\0" in text:
        raise argparse.ArgumentTypeError(
            f"contains a NUL byte (\\x00), which no path can hold; remove it from {shown(text)}"
        )
    return text


positive_int = int_between(1)
index = int_between(0)
ALL = "all"


def count_or_all(text: str) -> int | None:
    """A positive count, or ``all`` (None): no limit."""
    return None if text.strip().lower() == ALL else positive_int(text)


def positive_float(text: str) -> float:
    """A finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {shown(text)}") from None
    if not 0 < value < math.inf:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {value}")
    return value


def latent_span(text: str) -> float:
    """A positive, finite distance in latent space, at most ``MAX_LATENT_VALUE``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {shown(text)}") from None
    if not 0 < value <= MAX_LATENT_VALUE:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be above 0 and at most {MAX_LATENT_VALUE:g}, got {value}")
    return value


def add_parser(sub: Any, name: str, help: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
    p = sub.add_parser(name, formatter_class=Formatter, help=help, description=description, epilog=epilog)
    p.set_defaults(command=name)
    return p


JSON_HELP = "print one JSON document on stdout instead of text; progress and messages go to stderr"
RUNS_HELP = "where to look for runs"
DATA_DIR_HELP = "folder with the dataset's IDX files (= data.data_dir)"


def add_run(parser: argparse.ArgumentParser) -> argparse.Action:
    return parser.add_argument(
        "--run",
        metavar="DIR",
        type=path_text,
        default=None,
        help="run folder to use (default: the most recent run under --output-dir)",
    )


def add_output_dir(
    parser: argparse.ArgumentParser, help: str = RUNS_HELP, default: str | None = defaults.OUTPUT_DIR
) -> argparse.Action:
    return parser.add_argument("--output-dir", metavar="DIR", type=path_text, default=default, help=help)


def add_data_dir(parser: argparse.ArgumentParser, help: str = DATA_DIR_HELP) -> argparse.Action:
    return parser.add_argument("--data-dir", metavar="DIR", type=path_text, default=None, help=help)


def add_set(parser: argparse.ArgumentParser, help: str) -> argparse.Action:
    """``--set KEY=VALUE``, repeatable, into ``args.overrides``; ``options.config_overrides`` reads it."""
    return parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides", help=help)


def add_json(parser: argparse.ArgumentParser, help: str = JSON_HELP) -> argparse.Action:
    return parser.add_argument("--json", action="store_true", help=help)


def add_run_args(parser: argparse.ArgumentParser, out_default: str | None, data: bool = True) -> None:
    """``--run``, ``--output-dir``, then ``--out`` (where the command draws) and ``--data-dir`` (where it reads data)."""
    add_run(parser)
    add_output_dir(parser)
    if out_default:
        parser.add_argument(
            "--out",
            metavar="FILE",
            type=path_text,
            default=None,
            help=f"PNG, PDF or SVG file to write (default: {out_default})",
        )
    if data:
        add_data_dir(
            parser, "folder with the dataset's IDX files (default: as for the run, or the folder it was trained from)"
        )


def add_seed(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--seed", metavar="N", type=int_between(0, MAX_SEED), default=defaults.SEED, help=f"seed that picks {what}"
    )
