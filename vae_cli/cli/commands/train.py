"""``vae train``: a new run from configs, an interrupted run resumed, or the resolved config printed."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from vae_cli.cli import options, report
from vae_cli.cli.arguments import HELP_WIDTH, add_data_dir, add_json, add_output_dir, add_parser, add_set, path_text
from vae_cli.errors import ConfigError


def _key_table() -> str:
    """Every config key with its default in YAML spelling and its meaning, wrapped to HELP_WIDTH."""
    import textwrap

    from vae_cli.config import describe_keys
    from vae_cli.yamlfile import yaml_text

    rows = [(key, yaml_text(default), help) for key, default, help in describe_keys()]
    key_width = max(len(key) for key, _, _ in rows) + 2
    default_width = max(len(default) for _, default, _ in rows) + 2
    indent = 2 + key_width + default_width
    lines = []
    for key, default, help in rows:
        wrapped = textwrap.wrap(help, HELP_WIDTH - indent) or [""]
        lines.append(f"  {key:<{key_width}}{default:<{default_width}}{wrapped[0]}".rstrip())
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines)


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "train",
        "train a VAE and save a run folder",
        "Train a VAE from YAML configs; writes outputs/<name>-<timestamp>/.",
        epilog=f"config keys (for the YAML file or --set), with defaults:\n{_key_table()}",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        type=path_text,
        action="append",
        default=[],
        help="YAML config; repeatable: later files win key by key (default: built-in defaults)",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        type=path_text,
        default=None,
        help="continue an interrupted run from its last completed epoch, with its own config.yaml",
    )
    add_set(
        p, "override a config key, value parsed as YAML; repeatable, wins over the files (e.g. --set train.epochs=3)"
    )
    add_data_dir(p)
    add_json(p)
    add_output_dir(p, "parent folder of the run folders (= output.dir)", default=None)
    p.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved config as YAML, each key's source in a comment; train nothing, write nothing",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.config import resolve_config

    if args.resume:
        if args.config or args.overrides or args.output_dir:
            raise ConfigError("--resume uses the run's own config.yaml; drop --config, --set and --output-dir")
        if args.print_config:
            raise ConfigError(f"--print-config shows a new run's config; a run's own is {args.resume}/config.yaml")
        training = _training()
        with _progress_stream(args.json) as verbose:
            result = training.resume(args.resume, args.data_dir, verbose)
        return _report(result, args.json)
    cfg, sources = resolve_config(args.config, options.config_overrides(args))  # a bad config fails at once
    if args.print_config:
        if args.json:  # one document on stdout: the config with each key's value and source
            return report.print_json({key: {"value": value, "source": sources[key]} for key, value in _flat(cfg)})
        report.print_config(cfg, sources)
        return 0
    training = _training()
    with _progress_stream(args.json) as verbose:
        hooks = training.Hooks(on_note=lambda note: report.print_notes(args.command, [note]))
        result = training.start(cfg, args.argv, verbose, hooks)
    return _report(result, args.json)


def _training() -> Any:
    """The training modules, TensorFlow imported first: quietly, and timed for run.json's phases."""
    from vae_cli import backend

    backend.load()
    from vae_cli.training import run as training

    return training


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
