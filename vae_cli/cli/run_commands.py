"""Commands that report on a run: ``evaluate`` (test-set likelihoods) and ``show`` (its summary)."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from vae_cli.cli import options, report
from vae_cli.cli.figure_commands import run_view

ESTIMATE_AFTER = 2.0  # seconds of evaluation (after the first, tracing chunk) the time estimate rests on
LOG_INTERVAL = 30.0  # seconds between progress lines when stderr is a log, not a terminal


class EvaluationProgress:
    """``progress(done, total)`` for the estimator: the estimated time on stderr once a first chunk is
    measured, then Keras's ``Progbar`` there, a live bar on a terminal and a line every LOG_INTERVAL
    seconds in a log."""

    def __init__(self, k: int, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.k, self.stream, self.clock = k, stream or sys.stderr, clock
        self.terminal = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.first: tuple[float, int] | None = None  # (time, images) at the first report: tracing is done by then
        self.bar: Any = None
        self.shown = False
        self.out = self.stream if self.terminal else _LogLines(self.stream)

    def __call__(self, done: int, total: int) -> None:
        import keras

        now = self.clock()
        if self.first is None:
            self.first = (now, done)
            self.bar = keras.utils.Progbar(total, unit_name="image", interval=0.1 if self.terminal else LOG_INTERVAL)
        if not self.shown:
            start, first_done = self.first
            if done < total and (now - start < ESTIMATE_AFTER or done == first_done):
                return  # too little measured yet for an estimate worth printing
            if done < total:
                seconds = (now - start) / (done - first_done) * (total - first_done)
                print(
                    f"vae evaluate: {total} test images at k={self.k}: about {report.duration(seconds)} "
                    f"(estimated from {done - first_done} images); --limit and --k change it",
                    file=self.stream,
                    flush=True,
                )
            self.shown = True
        with contextlib.redirect_stdout(self.out):  # Progbar writes to stdout, which belongs to the results
            self.bar.update(done)


class _LogLines:
    """Progbar's text made into plain lines for a log: no colour codes, no cursor moves."""

    _CODES = re.compile(r"\x1b\[[0-9;]*m")
    _TO_DO = re.compile(r"\x1b\[37m(━*)")  # the bar's grey part, told apart by colour alone
    _REDRAW = re.compile(r"^[\b]*\r")  # the bar going back over its own line

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.started = stream, False

    def write(self, text: str) -> int:
        text = self._TO_DO.sub(lambda m: "·" * len(m.group(1)), text)
        text = self._REDRAW.sub("\n", self._CODES.sub("", text))
        if not self.started:  # each update starts a new line; the first needs none
            text, self.started = text.lstrip("\n"), True
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def evaluate(args: argparse.Namespace) -> int:
    from vae_cli.figures.from_run import kl_per_dim
    from vae_cli.runs.evaluation import evaluate_run

    out = options.out_path(args.out)  # a bad --out fails before an evaluation of minutes
    view = run_view(args)
    progress = EvaluationProgress(args.k)
    evaluation = evaluate_run(view, args.k, args.samples, args.binarize, args.limit, args.seed, progress)
    if args.json:
        return report.print_json(report.evaluation_record(view.dir, evaluation))
    report.print_evaluation(view.dir, evaluation)
    if evaluation.metrics is None:  # an autoencoder: no KL to chart
        return 0
    return report.print_paths(kl_per_dim(view, evaluation, args.limit, out))


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
