"""``vae evaluate``'s progress on stderr: the estimated time after a first chunk, then a bar with the time left
and, at the end, the time spent, in plain lines when stderr is a log; and its defaults, which take minutes rather
than hours."""

import io

import pytest

from vae_cli import defaults
from vae_cli.cli.commands.evaluate import ESTIMATE_AFTER, LOG_INTERVAL, EvaluationProgress
from vae_cli.cli.parser import build_parser


class Log(io.StringIO):
    def isatty(self):
        return False


def feed(progress, clock, chunks, total, seconds_each):
    for done in chunks:
        clock[0] += seconds_each
        progress(done, total)


def test_the_time_is_estimated_once_from_a_first_chunk_then_plain_lines_follow():
    clock, log = [0.0], Log()
    progress = EvaluationProgress(1000, log, clock=lambda: clock[0])
    feed(progress, clock, range(8, 2001, 8), 2000, seconds_each=0.5)  # 16 images a second
    lines = log.getvalue().splitlines()
    estimates = [line for line in lines if "about" in line]
    assert len(estimates) == 1 and lines[0] == estimates[0]
    assert "2000 test images at k=1000: about 2m04s" in estimates[0]  # 2000 / 16 = 125 s
    bars = lines[1:]
    assert all(line.startswith("images ") and "/2000 " in line for line in bars)
    assert all(line.endswith(" left") for line in bars[:-1]) and len(bars) >= 3  # one every LOG_INTERVAL
    # 2000 images in 125 s: the whole time spent, and per image, each with its label
    assert bars[-1].startswith("images 2000/2000 ") and bars[-1].endswith("done in 2m05s (62.5 ms per image at k=1000)")
    assert not any(c in log.getvalue() for c in "\x1b\r\b")  # no colour codes or redraws in a log


def test_the_time_left_counts_down_at_the_measured_pace():
    clock, log = [0.0], Log()
    progress = EvaluationProgress(10, log, clock=lambda: clock[0])
    feed(progress, clock, range(100, 1001, 100), 1000, seconds_each=LOG_INTERVAL)  # 100 images per interval
    lefts = [line.split()[-2] for line in log.getvalue().splitlines() if line.endswith(" left")]
    assert lefts[:2] == ["4m00s", "3m30s"], lefts  # 300 s left after 200 images, measured from the first chunk


def test_a_terminal_gets_one_redrawn_line():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    clock, out = [0.0], Terminal()
    progress = EvaluationProgress(10, out, clock=lambda: clock[0])
    feed(progress, clock, range(10, 101, 10), 100, seconds_each=1.0)
    text = out.getvalue()
    assert text.count("\n") == 2 and text.count("\r") >= 5  # the estimate, then one bar redrawn and ended


def test_the_estimate_waits_for_enough_measured_time():
    clock, log = [0.0], Log()
    progress = EvaluationProgress(50, log, clock=lambda: clock[0])
    feed(progress, clock, [10, 20], 100, seconds_each=ESTIMATE_AFTER / 4)
    assert log.getvalue() == ""
    feed(progress, clock, [30, 40, 50], 100, seconds_each=ESTIMATE_AFTER / 2)
    assert log.getvalue().count("about") == 1


def test_a_single_chunk_gets_no_estimate_but_its_line():
    log = Log()
    EvaluationProgress(20, log)(16, 16)
    assert "about" not in log.getvalue() and log.getvalue().startswith("images 16/16 ")


def test_evaluate_defaults_take_minutes_and_all_asks_for_everything():
    args = build_parser().parse_args(["evaluate"])
    assert (args.k, args.limit) == (defaults.EVALUATE_K, defaults.EVALUATE_LIMIT) == (1000, 2000)
    assert build_parser().parse_args(["evaluate", "--limit", "all", "--k", "5000"]).limit is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--limit", "0"])
