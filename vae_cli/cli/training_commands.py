"""``vae train``: a new run from configs, an interrupted run resumed, or the resolved config printed."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from vae_cli.cli import options, report
from vae_cli.errors import ConfigError

SET, DATA_DIR, OUTPUT_DIR = "--set", "--data-dir", "--output-dir"  # how --print-config names a key's source


def train(args: argparse.Namespace) -> int:
    from vae_cli.config import resolve_config
    from vae_cli.training import run

    if args.resume:
        if args.config or args.overrides or args.output_dir:
            raise ConfigError("--resume uses the run's own config.yaml; drop --config, --set and --output-dir")
        if args.print_config:
            raise ConfigError(f"--print-config shows a new run's config; a run's own is {args.resume}/config.yaml")
        with _progress_stream(args.json) as verbose:
            result = run.resume(args.resume, args.data_dir, verbose)
        return _report(result, args.json)
    overrides = [(*options.set_override(item), SET) for item in args.overrides]
    if args.data_dir:
        overrides.append(("data.data_dir", args.data_dir, DATA_DIR))
    if args.output_dir:
        overrides.append(("output.dir", args.output_dir, OUTPUT_DIR))
    cfg, sources = resolve_config(args.config, overrides)
    if args.print_config:
        if args.json:  # one document on stdout: the config with each key's value and source
            return report.print_json({key: {"value": value, "source": sources[key]} for key, value in _flat(cfg)})
        report.print_config(cfg, sources)
        return 0
    with _progress_stream(args.json) as verbose:
        result = run.start(cfg, args.argv, verbose)
    return _report(result, args.json)


@contextlib.contextmanager
def _progress_stream(json_out: bool) -> Any:
    """Keras's ``verbose`` for the terminal that shows progress; with --json that is stderr, since
    stdout carries the one document and Keras prints its progress to sys.stdout."""
    terminal = sys.stderr if json_out else sys.stdout
    verbose = 1 if terminal.isatty() else 2  # a live progress bar on a terminal; one line per epoch in logs
    with contextlib.redirect_stdout(sys.stderr) if json_out else contextlib.nullcontext():
        yield verbose


def _report(result: Any, json_out: bool) -> int:
    if json_out:
        return report.print_json(report.train_record(result))
    if result.already_finished:
        print(f"{result.run_dir} already finished ({result.epochs} epochs); nothing to resume.")
        return 0
    if result.resumed_from:
        print(f"Resumed after epoch {result.resumed_from}.")
    report.print_train_result(result)
    return 0


def _flat(cfg: Any) -> list[tuple[str, Any]]:
    from vae_cli.config import to_dict

    return [(f"{section}.{key}", value) for section, values in to_dict(cfg).items() for key, value in values.items()]
