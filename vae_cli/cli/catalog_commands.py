"""Commands across runs: ``list`` (a table of runs) and ``compare`` (curves and differing settings)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vae_cli.cli import report, tables
from vae_cli.errors import ConfigError


def list_runs(args: argparse.Namespace) -> int:
    from vae_cli.runs.catalog import list_runs as find

    runs = find(args.output_dir)
    if args.json:
        return report.print_json({"output_dir": args.output_dir, "runs": [r.record() for r in runs]})
    if not runs:
        print(f"no runs under {args.output_dir}/")
        return 0
    tables.print_runs(runs)
    return 0


def compare(args: argparse.Namespace) -> int:
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
    for i, run in enumerate(runs):
        record = run.record()
        record["settings"] = {key: values[i] for key, values in differing.items()}
        record["val_scores"] = run.scores  # best_val_loss is their lowest, at best_epoch
        records.append(record)
    return report.print_json({"figure": figure, "differing_settings": list(differing), "runs": records})
