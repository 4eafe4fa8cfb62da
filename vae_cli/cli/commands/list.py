"""``vae list``: a table of the runs in the output folder (no TensorFlow needed)."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli.cli import report, tables
from vae_cli.cli.arguments import add_json, add_output_dir, add_parser


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "list",
        "a table of the runs in the output folder",
        "One line per run folder: name, status, dataset, kind, latent size, epochs, best validation loss,\n"
        "test -ELBO and, once `vae evaluate` has measured it, the NLL (no TensorFlow needed).",
    )
    add_output_dir(p)
    add_json(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.runs.catalog import list_runs

    runs = list_runs(args.output_dir)
    if args.json:
        return report.print_json({"output_dir": args.output_dir, "runs": [r.record() for r in runs]})
    if not runs:
        print(f"no runs under {args.output_dir}/")
        return 0
    tables.print_runs(runs)
    return 0
