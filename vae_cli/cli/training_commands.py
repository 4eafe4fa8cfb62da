"""``vae train``: a new run from a config, or an interrupted run resumed."""

from __future__ import annotations

import argparse
import contextlib
import sys

from vae_cli.cli import options, report
from vae_cli.errors import ConfigError


def train(args: argparse.Namespace) -> int:
    from vae_cli.config import load_config
    from vae_cli.training import run

    # With --json, stdout carries the one document: Keras's progress (printed to sys.stdout) goes to stderr.
    terminal = sys.stderr if args.json else sys.stdout
    # A live progress bar on a terminal; one line per epoch in logs and pipes.
    verbose = 1 if terminal.isatty() else 2
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        if args.resume:
            if args.config or args.overrides:
                raise ConfigError("--resume uses the run's own config.yaml; drop --config and --set")
            result = run.resume(args.resume, args.data_dir, verbose)
        else:
            overrides = [options.set_override(item) for item in args.overrides]
            if args.data_dir:
                overrides.append(("data.data_dir", args.data_dir))
            cfg = load_config(args.config, overrides)
            result = run.start(cfg, args.argv, verbose)
    if args.json:
        return report.print_json(report.train_record(result))
    if result.already_finished:
        print(f"{result.run_dir} already finished ({result.epochs} epochs); nothing to resume.")
        return 0
    if result.resumed_from:
        print(f"Resumed after epoch {result.resumed_from}.")
    report.print_train_result(result)
    return 0
