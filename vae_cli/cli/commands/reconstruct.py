"""``vae reconstruct``: test images above their decodings."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli import defaults, limits
from vae_cli.cli import options
from vae_cli.cli.arguments import add_parser, add_run_args, add_seed, int_between
from vae_cli.cli.chosen_run import run_view
from vae_cli.cli.report import print_paths


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "reconstruct",
        "test images above their reconstructions",
        "Pick test images covering every class (seeded) and show them above their decodings of z_mean.",
    )
    p.add_argument(
        "-n",
        metavar="N",
        type=int_between(1, limits.MAX_RECONSTRUCT),
        default=defaults.RECONSTRUCT_COUNT,
        help=f"how many test images, at most {limits.MAX_RECONSTRUCT}",
    )
    add_seed(p, "the test images")
    add_run_args(p, "reconstructions.png, or reconstructions-N-seedS.png, in the run folder")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.figures import rows_from_run

    out = options.out_path(args.out)
    return print_paths(rows_from_run.reconstruct(run_view(args), args.n, args.seed, out))
