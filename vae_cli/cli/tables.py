"""Terminal tables: the runs ``list`` shows, the settings and results ``compare`` prints, ``export``'s checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from vae_cli.cli import report
from vae_cli.runs.catalog import setting_text

RESULT_COLUMNS = (
    ("epochs", "epochs"),
    ("best_epoch", "best"),
    ("best_val_loss", "best val loss"),
    ("test_negative_elbo", "test -ELBO"),
    ("nll", "NLL"),
)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[bool]) -> list[str]:
    """Columns padded to their widest cell; numbers (``right``) aligned on the right."""
    cells = [list(header)] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for r in cells:
        parts = [c.rjust(w) if a else c.ljust(w) for c, w, a in zip(r, widths, right, strict=True)]
        lines.append("  ".join(parts).rstrip())
    return lines


def nll_cell(run: Any) -> str:
    return "-" if run.nll is None else f"{run.nll:.2f} (k={run.nll_k})"


def print_runs(runs: Sequence[Any]) -> None:
    header = ["run", "status", "dataset", "kind", "latent", "epochs", "best val loss", "test -ELBO", "NLL"]
    rows = [
        [
            r.name,
            r.status,
            r.dataset,
            r.kind,
            r.latent_dim,
            f"{r.epochs}/{cell(r.planned_epochs)}",
            r.best_val_loss,
            r.test_negative_elbo,
            nll_cell(r),
        ]
        for r in runs
    ]
    for line in table(header, rows, [False] * 4 + [True] * 5):
        print(line)
    names = Counter(r.score_name for r in runs if r.score_name)
    if len(names) > 1:  # a beta-VAE's or a btcvae's score is larger by its weighting, not by a worse model
        counts = ", ".join(f"{name} ({count} run{'s' * (count != 1)})" for name, count in names.items())
        print(f"best val loss is each run's own score, not comparable across them: {counts}")


def print_comparison(runs: Sequence[Any], differing: dict[str, list[Any]], figure: Any) -> None:
    header = ["run", *differing, *(title for _, title in RESULT_COLUMNS)]
    rows = []
    for i, r in enumerate(runs):
        results = [getattr(r, key) for key, _ in RESULT_COLUMNS[:-1]] + [nll_cell(r)]
        rows.append([r.name, *(setting_text(values[i]) for values in differing.values()), *results])
    right = [False] + [True] * (len(header) - 1)
    for line in table(header, rows, right):
        print(line)
    if not differing:
        print("(the runs' settings are the same, apart from where data and runs live)")
    names = ", ".join(dict.fromkeys(r.score_name for r in runs))  # each run's kinds.Score
    print(f"best val loss: lowest validation {names}; figure: {figure}")


def print_exports(exported: Sequence[Any]) -> None:
    rows = [[e.model, e.format, e.path, f"{e.max_abs_diff:.2e}", e.runtime] for e in exported]
    for line in table(
        ["model", "format", "file", "max |diff|", "loaded with"], rows, [False, False, False, True, False]
    ):
        print(line)


def export_record(exported: Sequence[Any]) -> list[dict]:
    keys = ("model", "format", "path", "runtime", "max_abs_diff", "matches")
    return [report.plain({key: getattr(e, key) for key in keys}) for e in exported]
