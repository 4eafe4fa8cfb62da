"""``vae evaluate``: a run's test-set likelihoods, with the time it will take and its progress on stderr."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from vae_cli import defaults, limits
from vae_cli.cli import options, report
from vae_cli.cli.arguments import add_json, add_parser, add_run_args, add_seed, count_or_all, int_between
from vae_cli.cli.chosen_run import run_view
from vae_cli.errors import RunError

ESTIMATE_AFTER = 2.0  # seconds of evaluation (after the first, tracing chunk) the time estimate rests on
LOG_INTERVAL = 30.0  # seconds between progress lines when stderr is a log, not a terminal


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "evaluate",
        "test-set -ELBO, importance-weighted NLL, KL per dimension, active units",
        "Measure a run on the test set in nats per image (beta = 1 whatever the training beta), record\n"
        "the numbers in the run's metrics.json and draw the KL of each latent dimension. The defaults\n"
        "take minutes; the time is estimated on stderr after a first chunk. For published comparisons:\n"
        "--k 5000 --limit all.",
    )
    p.add_argument(
        "--k",
        metavar="K",
        type=int_between(0, limits.MAX_K),
        default=defaults.EVALUATE_K,
        help=f"importance samples per image for the NLL, at most {limits.MAX_K:,} (0: skip the NLL)",
    )
    p.add_argument(
        "--samples",
        metavar="S",
        type=int_between(1, limits.MAX_SAMPLES),
        default=defaults.EVALUATE_SAMPLES,
        help=f"Monte Carlo samples of z per image for the ELBO, at most {limits.MAX_SAMPLES:,}",
    )
    p.add_argument(
        "--binarize",
        choices=["none", "static", "dynamic"],
        default=None,
        help="test-data treatment (default: as the run was trained)",
    )
    p.add_argument(
        "--limit",
        metavar="N",
        type=count_or_all,
        default=defaults.EVALUATE_LIMIT,
        help=f"only the first N test images; 'all': the whole test set, as papers report "
        f"(default: {defaults.EVALUATE_LIMIT})",
    )
    add_seed(p, "the Monte Carlo samples")
    add_run_args(p, "kl-per-dim.png, or kl-per-dim-<options>.png, in the run folder")
    add_json(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli import backend

    backend.load()  # before the estimator's modules import Keras: TensorFlow's start-up log stays off stderr
    from vae_cli.figures.from_run import information_matrix, kl_per_dim
    from vae_cli.runs.evaluation import Request, evaluate_run

    out = options.out_path(args.out)  # a bad --out fails before an evaluation of minutes
    view = run_view(args)
    progress = EvaluationProgress(args.k)
    request = Request(args.k, args.samples, args.binarize, args.limit, args.seed)
    evaluation = evaluate_run(view, request, progress)
    if args.json:
        report.print_json(report.evaluation_record(view.dir, evaluation))
    else:
        report.print_evaluation(view.dir, evaluation)
    if evaluation.not_recorded:  # the numbers are printed first: minutes of work are not lost
        raise RunError(
            f"could not write {evaluation.path}: {evaluation.not_recorded}; the numbers above are not recorded "
            f"there: {'free space' if 'space' in evaluation.not_recorded else 'make the run folder writable'} and "
            "evaluate again"
        )
    if args.json:
        return 0
    charts = [] if evaluation.metrics is None else kl_per_dim(view, evaluation, args.limit, out)  # an ae: no KL
    return report.print_paths(charts + information_matrix(view, evaluation, out))


BAR = 30  # characters of the progress bar
REDRAW = 0.1  # seconds between redraws of the bar on a terminal


class EvaluationProgress:
    """``progress(done, total)`` for the estimator, on stderr: the estimated time once a first chunk is measured,
    then a bar with the time left, and at the end the time spent. On a terminal the bar redraws its line; in a
    log it is a plain line every LOG_INTERVAL seconds."""

    def __init__(self, k: int, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.k, self.stream, self.clock = k, stream or sys.stderr, clock
        self.terminal = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.began = clock()
        self.first: tuple[float, int] | None = None  # (time, images) at the first report: tracing is done by then
        self.shown = False
        self.drawn = -math.inf  # when the bar was last drawn

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self.first is None:
            self.first = (now, done)
        start, first_done = self.first
        if not self.shown:
            if done < total and (now - start < ESTIMATE_AFTER or done == first_done):
                return  # too little measured yet for an estimate worth printing
            if done < total:
                estimate = (now - start) / (done - first_done) * (total - first_done)
                print(
                    f"vae evaluate: {total} test images at k={self.k}: about {report.duration(estimate)} "
                    f"(estimated from {done - first_done} images); --limit and --k change it",
                    file=self.stream,
                    flush=True,
                )
            self.shown = True
        if done < total and now - self.drawn < (REDRAW if self.terminal else LOG_INTERVAL):
            return
        self.drawn = now
        filled = BAR * done // total
        bar = "━" * filled + "·" * (BAR - filled)
        if done < total:
            when = f"{report.duration(self._left(now, done, total))} left"
        else:
            spent = now - self.began
            when = f"done in {report.duration(spent)} ({_per_image(spent / total)} per image at k={self.k})"
        line = f"images {done}/{total} {bar} {when}"
        end = "\n" if done >= total or not self.terminal else ""
        self.stream.write(("\r\x1b[K" if self.terminal else "") + line + end)
        self.stream.flush()

    def _left(self, now: float, done: int, total: int) -> float:
        """Seconds left at the pace measured since the first chunk (which includes the tracing)."""
        start, first_done = self.first
        return (now - start) / max(1, done - first_done) * (total - done)


def _per_image(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds >= 0.001 else f"{seconds * 1e6:.0f} µs"
