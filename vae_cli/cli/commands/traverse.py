"""``vae traverse``: one latent dimension at a time moved around a test image's code; a row per dimension."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli import defaults, limits
from vae_cli.cli import options
from vae_cli.cli.arguments import add_parser, add_run_args, add_seed, index, int_between, latent_span
from vae_cli.cli.chosen_run import run_view
from vae_cli.cli.report import print_paths


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "traverse",
        "vary one latent dimension at a time around a test image",
        "Decode a test image's z_mean with one dimension moved in steps; one row per dimension.",
    )
    p.add_argument(
        "--dim",
        metavar="K",
        type=index,
        default=None,
        help=f"only this dimension (default: all, or the {defaults.TRAVERSE_MAX_DIMS} most active when "
        f"latent_dim > {defaults.TRAVERSE_MAX_DIMS})",
    )
    p.add_argument("--index", metavar="I", type=index, default=None, help="test image index (default: random, seeded)")
    p.add_argument(
        "--steps",
        metavar="N",
        type=int_between(2, limits.MAX_TRAVERSE_STEPS),
        default=defaults.TRAVERSE_STEPS,
        help=f"values per dimension, at most {limits.MAX_TRAVERSE_STEPS}",
    )
    p.add_argument(
        "--span",
        metavar="S",
        type=latent_span,
        default=defaults.TRAVERSE_SPAN,
        help=f"move each dimension by -S..+S; S at most {limits.MAX_LATENT_VALUE:g}",
    )
    add_seed(p, "the test image")
    add_run_args(p, "traverse-I[-dimK][-Nsteps][-spanS].png in the run folder")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.figures import rows_from_run

    out = options.out_path(args.out)
    paths = rows_from_run.traverse(
        run_view(args), rows_from_run.Traversal(args.dim, args.steps, args.span), args.index, args.seed, out
    )
    return print_paths(paths)
