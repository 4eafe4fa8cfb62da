"""``vae sample``: a latent grid, random draws from the prior, or a row per class, decoded into one figure."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli import defaults, limits
from vae_cli.cli import options
from vae_cli.cli.arguments import add_parser, add_run_args, add_seed, index, int_between
from vae_cli.cli.chosen_run import run_view
from vae_cli.cli.options import GRID_RANGE_TEXT
from vae_cli.cli.report import print_paths
from vae_cli.defaults import CLASS_COLUMNS, GRID
from vae_cli.errors import ConfigError


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "sample",
        "decode a latent grid, or random samples, into one PNG",
        "Decode an N x N grid over two latent dimensions (default), N random draws from the prior, or (a\n"
        "conditional run) a row per class. An autoencoder has no prior: its grid spans its codes' percentiles\n"
        "and its random codes come from a Gaussian fitted to the test-set codes.",
    )
    kind = p.add_mutually_exclusive_group()
    kind.add_argument(
        "--grid",
        metavar="N",
        type=int_between(1, limits.MAX_GRID),
        default=None,
        help=f"grid size per side, at most {limits.MAX_GRID} (default: {GRID})",
    )
    kind.add_argument(
        "--random",
        metavar="N",
        type=int_between(1, limits.MAX_RANDOM),
        default=None,
        help=f"N images from z ~ N(0, I), at most {limits.MAX_RANDOM:,}",
    )
    kind.add_argument(
        "--classes",
        metavar="N",
        type=int_between(1, limits.MAX_GRID),
        nargs="?",
        const=CLASS_COLUMNS,
        default=None,
        help=f"cvae: one row per class decoding the same N draws of z, one per column (N: {CLASS_COLUMNS}, "
        f"at most {limits.MAX_GRID})",
    )
    p.add_argument(
        "--label",
        metavar="K",
        type=index,
        default=None,
        help="cvae: decode the grid or the random samples as class K (default: grid: the first class; "
        "random: the classes in turn)",
    )
    p.add_argument(
        "--range",
        metavar="SPEC",
        default=None,
        dest="range_text",
        help="grid coordinates: ppf:LOW:HIGH (prior quantiles), linear:MIN:MAX (within "
        f"+-{limits.MAX_LATENT_VALUE:g}), or data[:LOW:HIGH] (percentiles of the test set's z_mean) "
        f"(default: {GRID_RANGE_TEXT}; an autoencoder's: data)",
    )
    p.add_argument(
        "--dims",
        metavar="I,J",
        default=None,
        help="the two latent dimensions the grid varies, or 'active': the two whose z_mean varies most "
        "over test images (default: 0,1)",
    )
    p.add_argument("--no-axes", action="store_true", help="the grid's pixels alone, no title or ticks (for papers)")
    add_seed(p, "the random samples")
    add_run_args(p, "grid.png, grid-<options>.png, random-N-seedS.png or classes.png in the run folder")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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
    asked = from_run.GridAsked(grid, rng, dims, not args.no_axes, args.label)
    return print_paths(from_run.sample_grid(run_view(args), asked, out))
