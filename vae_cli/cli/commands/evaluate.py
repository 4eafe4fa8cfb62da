"""``vae evaluate``: a run's test-set likelihoods, with the time it will take and its progress on stderr."""

from __future__ import annotations

import argparse
import contextlib
import re
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
    from vae_cli.figures.from_run import kl_per_dim
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
            "there: make the run folder writable and evaluate again"
        )
    if args.json or evaluation.metrics is None:  # an autoencoder: no KL to chart
        return 0
    return report.print_paths(kl_per_dim(view, evaluation, args.limit, out))


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
