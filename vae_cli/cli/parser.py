"""The argparse definition of every command and option; imports nothing heavy."""

from __future__ import annotations

import argparse

from vae_cli import __version__, defaults
from vae_cli.cli.arguments import (
    Formatter,
    add_parser,
    add_run_args,
    add_seed,
    index,
    int_at_least,
    positive_float,
    positive_int,
)
from vae_cli.cli.options import GRID_RANGE_TEXT
from vae_cli.defaults import CLASS_COLUMNS, GRID, TSNE_LIMIT


def _add_train(sub):
    from vae_cli.config import describe_keys

    keys = "\n".join(f"  {key:<30} {default!r:<14} {help}" for key, default, help in describe_keys())
    p = sub.add_parser(
        "train",
        formatter_class=Formatter,
        help="train a VAE and save a run folder",
        description="Train a VAE from a YAML config; writes outputs/<name>-<timestamp>/.",
        epilog=f"config keys (for the YAML file or --set), with defaults:\n{keys}",
    )
    p.add_argument("--config", metavar="FILE", default=None, help="YAML config (default: built-in defaults)")
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        default=None,
        help="continue an interrupted run from its last completed epoch, with its own config.yaml",
    )
    p.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        dest="overrides",
        help="override a config key, value parsed as YAML; repeatable (e.g. --set train.epochs=3)",
    )
    p.add_argument(
        "--data-dir", metavar="DIR", default=None, help="folder with the dataset's IDX files (= data.data_dir)"
    )
    p.set_defaults(command="train")


def _add_sample(sub):
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
        "--grid", metavar="N", type=positive_int, default=None, help=f"grid size per side (default: {GRID})"
    )
    kind.add_argument("--random", metavar="N", type=positive_int, default=None, help="N images from z ~ N(0, I)")
    kind.add_argument(
        "--classes",
        metavar="N",
        type=positive_int,
        nargs="?",
        const=CLASS_COLUMNS,
        default=None,
        help=f"cvae: one row per class decoding the same N draws of z, one per column (N: {CLASS_COLUMNS})",
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
        help="grid coordinates: ppf:LOW:HIGH (prior quantiles), linear:MIN:MAX, or data[:LOW:HIGH] "
        f"(percentiles of the test set's z_mean) (default: {GRID_RANGE_TEXT}; an autoencoder's: data)",
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


def _add_plot_latent(sub):
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
        help="2-D projection when latent_dim > 2 (t-SNE: exact, NumPy, on --limit points)",
    )
    p.add_argument("--split", choices=["test", "train"], default="test", help="which images to encode")
    p.add_argument(
        "--limit",
        metavar="N",
        type=positive_int,
        default=None,
        help=f"a random N of the split's images (default: all; {TSNE_LIMIT} for tsne)",
    )
    add_seed(p, "the --limit images and the t-SNE start")
    add_run_args(p, "latent.png or latent-<options>.png in the run folder")


def _add_reconstruct(sub):
    p = add_parser(
        sub,
        "reconstruct",
        "test images above their reconstructions",
        "Pick test images covering every class (seeded) and show them above their decodings of z_mean.",
    )
    p.add_argument(
        "-n", metavar="N", type=positive_int, default=defaults.RECONSTRUCT_COUNT, help="how many test images"
    )
    add_seed(p, "the test images")
    add_run_args(p, "reconstructions.png, or reconstructions-N-seedS.png, in the run folder")


def _add_interpolate(sub):
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
        type=int_at_least(2),
        default=defaults.INTERPOLATE_STEPS,
        help="decoded points, ends included",
    )
    add_seed(p, "the images when --from/--to are not given")
    add_run_args(p, "interpolation-I-J[-Nsteps].png and .gif in the run folder")


def _add_traverse(sub):
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
        "--steps", metavar="N", type=int_at_least(2), default=defaults.TRAVERSE_STEPS, help="values per dimension"
    )
    p.add_argument(
        "--span",
        metavar="S",
        type=positive_float,
        default=defaults.TRAVERSE_SPAN,
        help="move each dimension by -S..+S",
    )
    add_seed(p, "the test image")
    add_run_args(p, "traverse-I[-dimK][-Nsteps][-spanS].png in the run folder")


def _add_evaluate(sub):
    p = add_parser(
        sub,
        "evaluate",
        "test-set -ELBO, importance-weighted NLL, KL per dimension, active units",
        "Measure a run on the test set in nats per image (beta = 1 whatever the training beta) and record\n"
        "the numbers in the run's metrics.json.",
    )
    p.add_argument(
        "--k",
        metavar="K",
        type=index,
        default=defaults.EVALUATE_K,
        help="importance samples per image for the NLL (0: skip the NLL)",
    )
    p.add_argument(
        "--samples",
        metavar="S",
        type=positive_int,
        default=defaults.EVALUATE_SAMPLES,
        help="Monte Carlo samples of z per image for the ELBO",
    )
    p.add_argument(
        "--binarize",
        choices=["none", "static", "dynamic"],
        default=None,
        help="test-data treatment (default: as the run was trained)",
    )
    p.add_argument(
        "--limit",
        metavar="N",
        type=positive_int,
        default=None,
        help="only the first N test images, for a quick estimate",
    )
    add_seed(p, "the Monte Carlo samples")
    add_run_args(p, None)


def _add_show(sub):
    p = add_parser(
        sub,
        "show",
        "print a run's summary: config, losses, model sizes, files",
        "Summarise a run folder in the terminal (no TensorFlow needed).",
    )
    add_run_args(p, None, data=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vae",
        formatter_class=Formatter,
        description="Train Variational Autoencoders with Keras 3 and look at what they learned.",
        epilog="examples:\n  vae train --config configs/mnist.yaml\n  vae sample --grid 15\n  vae plot-latent\n"
        "  vae reconstruct\n  vae show",
    )
    parser.add_argument("--version", action="version", version=f"vae {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in (
        _add_train,
        _add_sample,
        _add_plot_latent,
        _add_reconstruct,
        _add_interpolate,
        _add_traverse,
        _add_evaluate,
        _add_show,
    ):
        add(sub)
    return parser
