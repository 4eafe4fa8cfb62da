"""``vae show``: a run folder's summary in the terminal (no TensorFlow needed)."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli.cli import report
from vae_cli.cli.arguments import add_json, add_parser, add_run_args


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "show",
        "print a run's summary: config, losses, model sizes, files",
        "Summarise a run folder in the terminal (no TensorFlow needed).",
    )
    add_run_args(p, None, data=False)
    add_json(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.runs.folder import resolve_run
    from vae_cli.runs.summary import summary_lines, summary_record

    found = resolve_run(args.run, args.output_dir, trained=False)
    report.print_notes(args.command, found.notes)
    record = summary_record(found.dir)
    if args.json:
        return report.print_json(record)
    for line in summary_lines(record):
        print(line)
    return 0
