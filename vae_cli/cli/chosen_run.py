"""The run a command works on: ``--run``, or the latest under ``--output-dir``, read with ``--data-dir``."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli.cli.report import print_notes


def run_view(args: argparse.Namespace) -> Any:
    """The run the command works on; the damaged folders passed over on the way are noted on stderr."""
    from vae_cli.runs.view import RunView

    view = RunView(args.run, args.output_dir, getattr(args, "data_dir", None))
    print_notes(args.command, view.notes)
    return view
