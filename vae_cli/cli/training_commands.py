"""``vae train``: a new run from configs, an interrupted run resumed, or the resolved config printed."""

from __future__ import annotations

import argparse
import sys

from vae_cli.cli import options, report
from vae_cli.errors import ConfigError

SET, DATA_DIR, OUTPUT_DIR = "--set", "--data-dir", "--output-dir"  # how --print-config names a key's source


def train(args: argparse.Namespace) -> int:
    from vae_cli.config import resolve_config

    if args.resume:
        if args.config or args.overrides or args.output_dir:
            raise ConfigError("--resume uses the run's own config.yaml; drop --config, --set and --output-dir")
        if args.print_config:
            raise ConfigError(f"--print-config shows a new run's config; a run's own is {args.resume}/config.yaml")
        return _report(_training().resume(args.resume, args.data_dir, _verbose()))
    overrides = [(*options.set_override(item), SET) for item in args.overrides]
    if args.data_dir:
        overrides.append(("data.data_dir", args.data_dir, DATA_DIR))
    if args.output_dir:
        overrides.append(("output.dir", args.output_dir, OUTPUT_DIR))
    cfg, sources = resolve_config(args.config, overrides)
    if args.print_config:
        report.print_config(cfg, sources)
        return 0
    return _report(_training().start(cfg, args.argv, _verbose()))


def _training():
    from vae_cli.training import run

    return run


def _verbose() -> int:
    return 1 if sys.stdout.isatty() else 2  # a live progress bar on a terminal; one line per epoch in logs


def _report(result) -> int:
    if result.already_finished:
        print(f"{result.run_dir} already finished ({result.epochs} epochs); nothing to resume.")
        return 0
    if result.resumed_from:
        print(f"Resumed after epoch {result.resumed_from}.")
    report.print_train_result(result)
    return 0
