"""The argparse definitions of the figure commands: sample, plot-latent, reconstruct, interpolate, traverse."""

from __future__ import annotations

import argparse

from vae_cli import defaults, limits
from vae_cli.cli.arguments import (
    add_parser,
    add_run_args,
    add_seed,
    index,
    int_between,
    latent_span,
    positive_int,
)
from vae_cli.cli.options import GRID_RANGE_TEXT
from vae_cli.defaults import CLASS_COLUMNS, GRID


def add_sample(sub: argparse._SubParsersAction) -> None:
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


def add_plot_latent(sub: argparse._SubParsersAction) -> None:
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


def add_reconstruct(sub: argparse._SubParsersAction) -> None:
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


def add_interpolate(sub: argparse._SubParsersAction) -> None:
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
        help="test image index to start from (default: random, seeded)",
    )
    p.add_argument(
        "--to",
        metavar="J",
        type=index,
        default=None,
        dest="end",
        help="test image index to end at (default: random of another class)",
    )
    p.add_argument(
        "--steps",
        metavar="N",
        type=int_between(2, limits.MAX_INTERPOLATE_STEPS),
        default=defaults.INTERPOLATE_STEPS,
        help=f"decoded points, ends included; at most {limits.MAX_INTERPOLATE_STEPS}",
    )
    add_seed(p, "the images when --from/--to are not given")
    add_run_args(p, "interpolation-I-J[-Nsteps].png and .gif in the run folder")


def add_traverse(sub: argparse._SubParsersAction) -> None:
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
