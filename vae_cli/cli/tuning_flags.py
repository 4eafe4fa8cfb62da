"""``vae tune``'s flags in one table: each entry builds its option, and its role says whether the worker
processes that ``--workers`` starts are given it and whether ``--show`` refuses it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from vae_cli import defaults
from vae_cli.cli.arguments import (
    add_data_dir,
    add_json,
    add_output_dir,
    add_set,
    int_between,
    path_text,
    positive_float,
    positive_int,
)
from vae_cli.limits import MAX_WORKERS

SEARCH_ONLY = "search only"  # a setting of the search: the workers are given it; --show refuses it
STUDY = "study"  # which study, and where: the workers are given it; --show reads it too
LAUNCH = "launch"  # how this process starts the search: the workers are not given it; --show refuses it
SHOW = "show"  # --show's own: the workers are not given it
WORKER = "worker"  # set by --workers for the processes it starts
GIVEN_TO_WORKERS = (SEARCH_ONLY, STUDY, WORKER)

Adder = Callable[[argparse.ArgumentParser], argparse.Action]


@dataclass(frozen=True)
class Flag:
    role: str
    add: Adder


def _option(flag: str, **settings: Any) -> Adder:
    return lambda parser: parser.add_argument(flag, **settings)


# In the order ``vae tune --help`` lists them.
FLAGS = (
    Flag(
        SEARCH_ONLY,
        _option(
            "--config", metavar="FILE", type=path_text, default=None, help="the YAML config every trial starts from"
        ),
    ),
    Flag(
        SEARCH_ONLY,
        _option(
            "--space",
            metavar="FILE",
            type=path_text,
            default=None,
            help="the search-space YAML: objective, pruner, keys and ranges",
        ),
    ),
    Flag(
        SEARCH_ONLY,
        _option(
            "--trials",
            metavar="N",
            type=positive_int,
            default=None,
            help="the study's total of finished trials, counted over every process that works on it",
        ),
    ),
    Flag(
        LAUNCH,
        _option(
            "--workers",
            metavar="N",
            type=int_between(1, MAX_WORKERS),
            default=1,
            help="worker processes on this machine, each with an equal share of the cores; about one per 2 cores "
            f"is sensible (at most {MAX_WORKERS})",
        ),
    ),
    Flag(
        STUDY,
        _option(
            "--study",
            metavar="NAME",
            default=None,
            help="the study's name (default: the space file's name; with --show: the only or latest study)",
        ),
    ),
    Flag(
        STUDY,
        _option(
            "--storage",
            metavar="URL",
            default=None,
            help="where the study lives, e.g. postgresql://USER@HOST/DB with the password in $PGPASSWORD or "
            "~/.pgpass (default: $VAE_STORAGE, else sqlite:///<output.dir>/<study>/study.db)",
        ),
    ),
    Flag(
        SEARCH_ONLY,
        _option(
            "--timeout",
            metavar="SECONDS",
            type=positive_float,
            default=None,
            help="start no trial after this many seconds (running trials finish)",
        ),
    ),
    Flag(SEARCH_ONLY, partial(add_set, help="override a config key of every trial, value parsed as YAML; repeatable")),
    Flag(SEARCH_ONLY, add_data_dir),
    Flag(
        SHOW,
        _option(
            "--show",
            action="store_true",
            help="print a study's trials and write its best.yaml and figures; no training",
        ),
    ),
    Flag(SHOW, partial(add_json, help="with --show: the study as JSON on stdout")),
    Flag(
        STUDY,
        partial(
            add_output_dir,
            help=f"a search: --set output.dir=DIR; with --show: where to look for studies (default {defaults.OUTPUT_DIR})",
            default=None,
        ),
    ),
    # The worker's share of the cores; hidden, since only --workers sets it.
    Flag(WORKER, _option("--worker-threads", metavar="N", type=positive_int, default=None, help=argparse.SUPPRESS)),
)


def add_flags(parser: argparse.ArgumentParser) -> None:
    for flag in FLAGS:
        flag.add(parser)


def _actions() -> list[tuple[str, argparse.Action]]:
    """Each flag's role beside its argparse action, read off a parser of their own."""
    parser = argparse.ArgumentParser(add_help=False)
    return [(flag.role, flag.add(parser)) for flag in FLAGS]


def refused_by_show(args: argparse.Namespace) -> list[str]:
    """The flags given that ``--show`` refuses: the search's own first, then the launch's."""
    actions = _actions()
    return [
        action.option_strings[0]
        for role in (SEARCH_ONLY, LAUNCH)
        for flag_role, action in actions
        if flag_role == role and getattr(args, action.dest) != action.default
    ]


def worker_flags(args: argparse.Namespace, values: dict[str, Any]) -> list[str]:
    """A worker's flags: each one the workers are given that has a value, ``values`` (by dest) before ``args``."""
    argv = []
    for role, action in _actions():
        value = values.get(action.dest, getattr(args, action.dest))
        if role not in GIVEN_TO_WORKERS or not value:
            continue
        for item in value if isinstance(value, list) else [value]:
            argv += [action.option_strings[0], str(item)]
    return argv
