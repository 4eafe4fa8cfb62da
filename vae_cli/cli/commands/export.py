"""``vae export``: a run's encoder and decoder for other runtimes, each checked against Keras."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli.cli import report, tables
from vae_cli.cli.arguments import add_json, add_parser, add_run_args
from vae_cli.cli.chosen_run import run_view
from vae_cli.errors import RunError
from vae_cli.names import EXPORT_FORMATS


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "export",
        "write the encoder and decoder for other runtimes, each checked against Keras",
        "Write the run's encoder and decoder into RUN/export/ in each --format, load every file back in\n"
        "its own runtime and print the largest difference from the Keras model's outputs. Another export\n"
        "of the same run in progress is waited for.",
    )
    p.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        action="append",
        default=None,
        dest="formats",
        help="keras (.keras), savedmodel (TensorFlow SavedModel folder), tflite (LiteRT), onnx; "
        "repeatable (default: keras)",
    )
    add_run_args(p, None, data=False)
    add_json(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.runs.export import TOLERANCE, export_run

    def waiting(pid: str) -> None:
        report.print_notes(args.command, [f"waiting for another export of this run to end (pid {pid})"])

    exported = export_run(run_view(args), args.formats or ["keras"], on_wait=waiting)
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
