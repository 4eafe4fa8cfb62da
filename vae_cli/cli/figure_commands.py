"""The figure commands: ``sample``, ``plot-latent``, ``reconstruct``, ``interpolate``, ``traverse``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vae_cli import defaults
from vae_cli.cli import options
from vae_cli.cli.report import print_notes, print_paths
from vae_cli.errors import ConfigError


def run_view(args: argparse.Namespace) -> Any:
    """The run the command works on; the damaged folders passed over on the way are noted on stderr."""
    from vae_cli.runs.view import RunView

    view = RunView(args.run, args.output_dir, getattr(args, "data_dir", None))
    print_notes(args.command, view.notes)
    return view


def sample(args: argparse.Namespace) -> int:
    from vae_cli.figures import from_run

    out = options.out_path(args.out)  # a bad --out fails before any work
    if args.classes is not None:
        if args.label is not None:
            raise ConfigError("--label: --classes draws every class; drop --label")
        return print_paths(from_run.sample_classes(run_view(args), args.classes, args.seed, out))
    if args.random is not None:
        return print_paths(from_run.sample_random(run_view(args), args.random, args.seed, out, args.label))
    rng = None if args.range_text is None else options.grid_range(args.range_text)
    dims = options.grid_dims(args.dims)
    grid = defaults.GRID if args.grid is None else args.grid
    return print_paths(from_run.sample_grid(run_view(args), grid, rng, dims, not args.no_axes, out, args.label))


def plot_latent(args: argparse.Namespace) -> int:
    from vae_cli.figures import from_run

    out = options.out_path(args.out)
    view = run_view(args)
    if args.method == "tsne" and view.cfg.model.latent_dim <= 2:
        latent = view.cfg.model.latent_dim
        print(
            f"vae plot-latent: the latent space is already {latent}-D; drawn as it is, without t-SNE", file=sys.stderr
        )
    return print_paths(from_run.plot_latent(view, args.method, args.split, args.limit, args.seed, out))


def reconstruct(args: argparse.Namespace) -> int:
    from vae_cli.figures import rows_from_run

    out = options.out_path(args.out)
    return print_paths(rows_from_run.reconstruct(run_view(args), args.n, args.seed, out))


def interpolate(args: argparse.Namespace) -> int:
    from vae_cli.figures import rows_from_run

    out = options.out_path(args.out)
    return print_paths(rows_from_run.interpolate(run_view(args), args.start, args.end, args.steps, args.seed, out))


def traverse(args: argparse.Namespace) -> int:
    from vae_cli.figures import rows_from_run

    out = options.out_path(args.out)
    paths = rows_from_run.traverse(run_view(args), args.dim, args.index, args.steps, args.span, seed=args.seed, out=out)
    return print_paths(paths)
