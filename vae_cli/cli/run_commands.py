"""Commands that report on a run: ``evaluate`` (test-set likelihoods) and ``show`` (its summary)."""

from __future__ import annotations

import argparse
import sys
import time

from vae_cli.cli import report
from vae_cli.cli.figure_commands import run_view


def evaluate(args: argparse.Namespace) -> int:
    from vae_cli.runs.evaluation import evaluate_run

    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        if not sys.stderr.isatty() and done < total:
            return  # a progress bar is for people watching; logs get the result
        elapsed = time.monotonic() - started
        eta = elapsed / done * (total - done)
        end = "\n" if done == total else ""
        print(
            f"\r  {done}/{total} test images, {report.duration(elapsed)} elapsed, ETA {report.duration(eta)}   ",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    view = run_view(args)
    evaluation = evaluate_run(view, args.k, args.samples, args.binarize, args.limit, args.seed, progress)
    if args.json:
        return report.print_json(report.evaluation_record(view.dir, evaluation))
    report.print_evaluation(view.dir, evaluation)
    return 0


def show(args: argparse.Namespace) -> int:
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
