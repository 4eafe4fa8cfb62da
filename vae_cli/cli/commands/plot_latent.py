"""``vae plot-latent``: the latent means of a data split, coloured by class, projected to 2-D if need be."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vae_cli.cli import options
from vae_cli.cli.arguments import add_parser, add_run_args, add_seed, positive_int
from vae_cli.cli.chosen_run import run_view
from vae_cli.cli.report import print_paths


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "plot-latent",
        "scatter latent means coloured by class",
        "Encode a data split and plot z_mean coloured by label; latent_dim > 2 is projected to 2-D.",
    )
    p.add_argument(
        "--method",
        choices=["pca", "tsne"],
        default="pca",
        help='2-D projection when latent_dim > 2 (tsne: openTSNE, pip install "vae-cli[tsne]")',
    )
    p.add_argument("--split", choices=["test", "train"], default="test", help="which images to encode")
    p.add_argument(
        "--limit",
        metavar="N",
        type=positive_int,
        default=None,
        help="a random N of the split's images (default: all)",
    )
    add_seed(p, "the --limit images and the t-SNE start")
    add_run_args(p, "latent.png or latent-<options>.png in the run folder")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.figures import from_run

    out = options.out_path(args.out)
    view = run_view(args)
    if args.method == "tsne" and view.cfg.model.latent_dim <= 2:
        latent = view.cfg.model.latent_dim
        print(
            f"vae plot-latent: the latent space is already {latent}-D; drawn as it is, without t-SNE", file=sys.stderr
        )
    return print_paths(from_run.plot_latent(view, args.method, args.split, args.limit, args.seed, out))
