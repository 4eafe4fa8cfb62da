"""Terminal text of ``vae tune``: a line as each trial starts and ends, and the table of a study's trials."""

from __future__ import annotations

import math
import os
from collections import Counter
from typing import Any

from vae_cli.cli.report import duration
from vae_cli.cli.tables import table


def _where(path: str | None) -> str:
    if not path:
        return "-"
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _params(values: dict) -> str:
    return ", ".join(f"{key}={_value(value)}" for key, value in values.items())


def trial_started(record: Any) -> None:
    if record.retry_of is not None:
        how = f"resuming {_where(record.run_dir)}" if record.run_dir else "from the start"
        print(f"trial {record.number} runs trial {record.retry_of} again, {how}: {_params(record.values)}", flush=True)
    else:
        print(f"trial {record.number} starts: {_params(record.values)}", flush=True)


def trial_ended(record: Any) -> None:
    if record.state in ("complete", "pruned"):
        what = "complete" if record.state == "complete" else f"pruned after epoch {record.epochs}"
        print(
            f"trial {record.number} {what}: validation -ELBO {record.value:.2f}, {record.epochs} epochs, "
            f"{duration(record.seconds)} of training, {_where(record.run_dir)}",
            flush=True,
        )
    else:
        print(f"trial {record.number} {record.state}: {record.message}", flush=True)


def print_findings(found: Any, trials: int | None) -> None:
    states = Counter(row.state for row in found.rows)
    parts = ", ".join(f"{n} {state}" for state, n in states.most_common())
    total = f"{found.counted} of {trials}" if trials else f"{found.counted}"
    print(f"\nStudy {found.name} ({found.storage}): {total} trials finished ({parts or 'none yet'})")
    keys = list(dict.fromkeys(key for row in found.rows for key in row.params))
    header = ["trial", "state", *keys, "-ELBO", "epochs", "seconds", "run folder"]
    rows = []
    for row in found.rows:
        state = row.state + (f" -> {row.rerun_as}" if row.rerun_as is not None else "")
        state += f" (of {row.retry_of})" if row.retry_of is not None else ""
        value = f"{row.value:.2f}" if row.value is not None and math.isfinite(row.value) else "-"
        seconds = f"{row.seconds:.0f}" if row.seconds is not None else "-"
        cells = [str(row.number), state, *(_value(row.params.get(k)) for k in keys), value]
        rows.append(cells + [_value(row.epochs), seconds, _where(row.run_dir)])
    for line in table(header, rows, [False] * len(header)):
        print("  " + line)
    if found.best is not None:
        best = found.best
        print(f"\nBest: trial {best.number}, validation -ELBO {best.value:.2f} nats per image, {_where(best.run_dir)}")
    for path in found.files:
        if path.name.endswith(".yaml"):
            print(f"Its config: {path}   (train it again: vae train --config {path})")
    figures = [str(p) for p in found.files if p.suffix == ".png"]
    if figures:
        print("Figures: " + "  ".join(figures))
    for note in found.notes:
        print(f"Note: {note}")
