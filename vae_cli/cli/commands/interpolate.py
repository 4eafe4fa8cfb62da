"""``vae interpolate``: the straight line between two test images' latent means, decoded; a strip and a GIF."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli import defaults, limits
from vae_cli.cli import options
from vae_cli.cli.arguments import add_parser, add_run_args, index, int_between
from vae_cli.cli.chosen_run import run_view
from vae_cli.cli.report import print_paths


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "interpolate",
        "decode the straight line between two test images' latent means",
        "Encode two test images, decode evenly spaced points between their z_means; PNG strip and GIF.",
    )
    p.add_argument(
        "--from",
        metavar="I",
        type=index,
        default=None,
        dest="start",
        help="test image index to start from (default: a typical image of one of the two classes lying farthest "
        "apart in latent space)",
    )
    p.add_argument(
        "--to",
        metavar="J",
        type=index,
        default=None,
        dest="end",
        help="test image index to end at (default: a typical image of the class lying farthest from the start)",
    )
    p.add_argument(
        "--steps",
        metavar="N",
        type=int_between(2, limits.MAX_INTERPOLATE_STEPS),
        default=defaults.INTERPOLATE_STEPS,
        help=f"decoded points, ends included; at most {limits.MAX_INTERPOLATE_STEPS}",
    )
    add_run_args(p, "interpolation-I-J[-Nsteps].png and .gif in the run folder")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.figures import rows_from_run

    out = options.out_path(args.out)
    return print_paths(rows_from_run.interpolate(run_view(args), args.start, args.end, args.steps, out))
