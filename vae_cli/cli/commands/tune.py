"""``vae tune``: a hyperparameter search on Optuna, and ``vae tune --show``: what a study found."""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vae_cli import defaults
from vae_cli.cli import options, tuning_report
from vae_cli.cli.arguments import add_parser
from vae_cli.cli.tuning_flags import add_flags, refused_by_show
from vae_cli.errors import ConfigError, Fix, RunError

DESCRIPTION = """\
Search hyperparameters with Optuna. Each trial is an ordinary run folder under
<output.dir>/<study>/; the study lives in a storage that any number of vae tune
processes, on any number of machines, can share.

  vae tune --config mnist --space tune_mnist --trials 30 --workers 2
  vae tune --show"""


def add(sub: Any) -> None:
    p = add_parser(sub, "tune", "search hyperparameters: many trials, each an ordinary run folder", DESCRIPTION)
    add_flags(p)
    p.set_defaults(handler=run)


@dataclass(frozen=True)
class Search:
    """The study this process works on, with what its trials start from."""

    study: Any
    space: Any
    base: Any  # the config every trial starts from
    name: str
    url: str
    folder: Path
    started: float  # time.monotonic() as the command began


def run(args: argparse.Namespace) -> int:
    if args.show:
        return show(args)
    if args.worker_threads is not None:  # one of the processes that --workers started: it ends with that one
        from vae_cli.tuning.worker import watch_parent

        watch_parent()
    started = time.monotonic()
    from vae_cli.config import load_config
    from vae_cli.runs.folder import plain_name
    from vae_cli.tuning import study as study_mod
    from vae_cli.tuning.space import read_space

    if args.json:
        raise ConfigError("--json goes with --show; a search prints its trials as they finish")
    if not args.space:
        raise ConfigError("--space FILE is needed: the search space (see docs/guides/tuning.md)")
    if not args.trials:
        raise ConfigError("--trials N is needed: the study's total number of trials")
    overrides = options.config_overrides(args)
    base = load_config(args.config, overrides)
    space = read_space(args.space, base)
    searched = {d.key for d in space.dimensions}
    both = [key for key, *_ in overrides if key in searched]
    if both:
        raise ConfigError(f"--set {both[0]}: the space file searches this key; drop one of the two")
    name = study_mod.check_name(args.study or plain_name(Path(args.space).stem))
    url = study_mod.given_storage(args.storage) or study_mod.default_storage(base.output.dir, name)
    storage = study_mod.open_storage(url, space)
    with study_mod.reading(url):
        study = study_mod.open_study(storage, name, space, base, base.output.dir)
        finished = len(study_mod.census(study.get_trials(deepcopy=False)).counted)
    search = Search(study, space, base, name, url, study_mod.study_folder(base.output.dir, name), started)
    if args.worker_threads is not None:  # one of the processes that --workers started
        _work(args, search)
        return 0
    workers = f"{args.workers} workers" if args.workers > 1 else "1 worker"
    print(f"Study {name} in {study_mod.shown(url)}: {args.trials} trials in all; {workers} here.", flush=True)
    if args.workers > 1 and finished < args.trials:
        from vae_cli.cli.tuning_workers import run_workers

        code = run_workers(args, study, name, url, started)
        if code > 0:
            return code  # the workers said why, once
        died = code < 0  # killed by a signal: the others may have run its trial again
    else:
        if finished < args.trials:
            _work(args, search)
        died = False
    return _finish(args, search, -code if died else 0)


def _work(args: argparse.Namespace, search: Search) -> None:
    from vae_cli.config import to_dict
    from vae_cli.tuning import study as study_mod
    from vae_cli.tuning.trial import Objective
    from vae_cli.tuning.worker import Deadline, set_threads, work

    set_threads(args.worker_threads)
    if args.worker_threads is not None:
        search.study.sampler.reseed_rng()  # siblings with one sampler seed would all draw the same parameters
    objective = Objective(
        search.space,
        to_dict(search.base),
        search.name,
        search.folder,
        study_mod.shown(search.url),
        args.trials,
        args.argv,
        on_start=tuning_report.trial_started,
    )
    deadline = Deadline(search.started + args.timeout if args.timeout else None)
    work(search.study, objective, deadline, on_end=tuning_report.trial_ended)


def _finish(args: argparse.Namespace, search: Search, killed_by: int) -> int:
    from vae_cli.tuning import results

    trials, timeout = args.trials, args.timeout
    found = results.write_reports(search.study, results.findings(search.study, search.url, search.folder))
    tuning_report.print_findings(found, trials)
    print(f"Wall time: {time.monotonic() - search.started:.0f} s")
    if found.counted >= trials:
        return 0
    if killed_by or not timeout:
        why = f"a worker was killed (signal {killed_by})" if killed_by else "the workers stopped"
        raise RunError(f"{why} with {found.counted} of {trials} trials finished", Fix("tune_again"))
    print(f"The --timeout of {timeout:g} s passed with {found.counted} of {trials} trials finished; "
          "the same command continues the study.")  # fmt: skip
    return 0


def show(args: argparse.Namespace) -> int:
    from vae_cli.tuning import results
    from vae_cli.tuning import study as study_mod

    given = refused_by_show(args)
    if given:
        raise ConfigError(f"--show reads a study and trains nothing; drop {', '.join(given)}")
    name = study_mod.check_name(args.study) if args.study else None
    output_dir = args.output_dir or defaults.OUTPUT_DIR
    url = study_mod.given_storage(args.storage) or _find_study(output_dir, name)
    storage = study_mod.open_storage(url, None, create=False)
    with study_mod.reading(url):
        study = study_mod.load_study(storage, name, url)
        if not study_mod.definition(study):  # checked too: a damaged one is said here, in one line
            raise RunError(
                f"study {study.study_name} in {study_mod.shown(url)} was not made by vae tune (it has no vae "
                "record of its space and config), so there is nothing to draw; pass another --study"
            )
    database = study_mod.sqlite_file(url)
    # A shared database's own record of where its searches ran is not where this machine writes: --output-dir is.
    folder = database.parent if database is not None else study_mod.study_folder(output_dir, study.study_name)
    found = results.write_reports(study, results.findings(study, url, folder))
    if args.json:
        print(json.dumps(found.as_json(), indent=2, default=str))
    else:
        tuning_report.print_findings(found, None)
    return 0


def _find_study(output_dir: str, name: str | None) -> str:
    """The SQLite study under ``output_dir`` named ``name``, or the latest one there."""
    from vae_cli.tuning import study as study_mod

    if name is not None:
        return study_mod.default_storage(output_dir, name)
    found = sorted(Path(output_dir).glob(f"*/{study_mod.DATABASE}"), key=lambda p: os.stat(p).st_mtime)
    if not found:
        raise RunError(f"no study found under {output_dir}/", Fix("tune_first"))
    return study_mod.default_storage(output_dir, found[-1].parent.name)
