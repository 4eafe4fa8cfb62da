"""The argparse part of ``vae tune``."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli import defaults
from vae_cli.cli.arguments import Formatter, add_overrides, positive_float, positive_int

DESCRIPTION = """\
Search hyperparameters with Optuna. Each trial is an ordinary run folder under
<output.dir>/<study>/; the study lives in a storage that any number of vae tune
processes, on any number of machines, can share.

  vae tune --config configs/mnist.yaml --space configs/tune_mnist.yaml --trials 30 --workers 2
  vae tune --show"""


def add_tune(sub: Any) -> None:
    p = sub.add_parser(
        "tune",
        formatter_class=Formatter,
        help="search hyperparameters: many trials, each an ordinary run folder",
        description=DESCRIPTION,
    )
    p.add_argument("--config", metavar="FILE", default=None, help="the YAML config every trial starts from")
    p.add_argument(
        "--space", metavar="FILE", default=None, help="the search-space YAML: objective, pruner, keys and ranges"
    )
    p.add_argument(
        "--trials",
        metavar="N",
        type=positive_int,
        default=None,
        help="the study's total of finished trials, counted over every process that works on it",
    )
    p.add_argument(
        "--workers",
        metavar="N",
        type=positive_int,
        default=1,
        help="worker processes on this machine, each with an equal share of the cores",
    )
    p.add_argument(
        "--study",
        metavar="NAME",
        default=None,
        help="the study's name (default: the space file's name; with --show: the only or latest study)",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        default=None,
        help="where the study lives, e.g. postgresql://USER:PASSWORD@HOST/DB "
        "(default: sqlite:///<output.dir>/<study>/study.db)",
    )
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_float,
        default=None,
        help="start no trial after this many seconds (running trials finish)",
    )
    add_overrides(p, "override a config key of every trial, value parsed as YAML; repeatable")
    p.add_argument(
        "--show", action="store_true", help="print a study's trials and write its best.yaml and figures; no training"
    )
    p.add_argument("--json", action="store_true", help="with --show: the study as JSON on stdout")
    p.add_argument(
        "--output-dir",
        metavar="DIR",
        default=None,
        help=f"a search: --set output.dir=DIR; with --show: where to look for studies (default {defaults.OUTPUT_DIR})",
    )
    # Set by --workers for the processes it starts: their share of the cores.
    p.add_argument("--worker-threads", metavar="N", type=positive_int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(command="tune")
