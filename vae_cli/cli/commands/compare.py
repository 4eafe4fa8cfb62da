"""``vae compare``: runs' validation curves on one chart, and the settings in which they differ."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vae_cli.cli import report, tables
from vae_cli.cli.arguments import add_json, add_output_dir, add_parser, path_text
from vae_cli.errors import ConfigError


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "compare",
        "overlay runs' validation -ELBO curves; tabulate the settings in which they differ",
        "Draw the validation -ELBO per epoch of several runs on one chart and print the config keys whose\n"
        "values differ between them, with each run's results (no TensorFlow needed).",
    )
    p.add_argument(
        "runs",
        metavar="RUN",
        type=path_text,
        nargs="*",
        help="run folders, or folder names under --output-dir (default: every run there)",
    )
    add_output_dir(p)
    p.add_argument(
        "--out",
        metavar="FILE",
        type=path_text,
        default=None,
        help="file to write (default: compare-<RUN>_vs_<RUN>.png beside the first run)",
    )
    add_json(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.figures.compare import default_path, save_comparison
    from vae_cli.runs.catalog import differing_settings, find_runs, read_run

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() != ".png":
        raise ConfigError(f"--out {out}: the figure is written as PNG; give a file name ending in .png")
    runs = [read_run(path) for path in find_runs(args.runs, args.output_dir)]
    differing = differing_settings(runs)
    figure = save_comparison(out or default_path(runs), runs, differing)
    if not args.json:
        tables.print_comparison(runs, differing, figure)
        return 0
    records = []
    for i, r in enumerate(runs):
        record = r.record()
        record["settings"] = {key: values[i] for key, values in differing.items()}
        record["val_scores"] = r.scores  # best_val_loss is their lowest, at best_epoch
        records.append(record)
    return report.print_json({"figure": figure, "differing_settings": list(differing), "runs": records})
