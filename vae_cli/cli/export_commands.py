"""``vae export``: a run's encoder and decoder for other runtimes, each checked against Keras."""

from __future__ import annotations

import argparse

from vae_cli.cli import report, tables
from vae_cli.cli.catalog_parsers import formats_of
from vae_cli.cli.figure_commands import run_view
from vae_cli.errors import RunError


def export(args: argparse.Namespace) -> int:
    from vae_cli.runs.export import TOLERANCE, export_run

    exported = export_run(run_view(args), formats_of(args))
    if args.json:
        report.print_json({"tolerance": TOLERANCE, "exports": tables.export_record(exported)})
    else:
        tables.print_exports(exported)
    wrong = [e for e in exported if not e.matches]
    if wrong:
        worst = max(wrong, key=lambda e: e.max_abs_diff)
        raise RunError(
            f"{worst.path} differs from the Keras {worst.model} by {worst.max_abs_diff:.2e} (more than "
            f"{TOLERANCE:g}); do not use it, and report the versions in the run's run.json"
        )
    return 0
