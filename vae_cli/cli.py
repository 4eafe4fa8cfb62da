"""Command-line entry point: argparse, one builder per subcommand, errors and exit codes.

This is the only module that reads argv, prints to the terminal or picks an
exit code. It imports nothing heavy, so ``vae --help`` answers at once.
"""

import argparse
import sys

from vae_cli import __version__
from vae_cli.errors import EXIT_INTERRUPTED, ConfigError, VaeError


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_run_args(parser, out_default):
    parser.add_argument(
        "--run", metavar="DIR", default=None,
        help="run folder to use (default: the most recent run under --output-dir)",
    )
    parser.add_argument("--output-dir", metavar="DIR", default="outputs", help="where to look for runs")
    parser.add_argument("--out", metavar="FILE", default=None, help=f"PNG to write (default: {out_default})")


def _add_train(sub):
    from vae_cli.config import describe_keys

    keys = "\n".join(f"  {key:<30} {default!r:<12} {help}" for key, default, help in describe_keys())
    p = sub.add_parser(
        "train", formatter_class=_Formatter, help="train a VAE and save a run folder",
        description="Train a VAE from a YAML config; writes outputs/<name>-<timestamp>/.",
        epilog=f"config keys (for the YAML file or --set), with defaults:\n{keys}",
    )
    p.add_argument("--config", metavar="FILE", default=None, help="YAML config (default: built-in defaults)")
    p.add_argument(
        "--resume", metavar="RUN_DIR", default=None,
        help="continue an interrupted run from its last completed epoch, with its own config.yaml",
    )
    p.add_argument(
        "--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
        help="override a config key, value parsed as YAML; repeatable (e.g. --set train.epochs=3)",
    )
    p.add_argument("--data-dir", metavar="DIR", default=None, help="folder with the dataset's IDX files (= data.data_dir)")
    p.set_defaults(func=_train)


def _add_sample(sub):
    p = sub.add_parser(
        "sample", formatter_class=_Formatter, help="decode a grid of latent points into one PNG",
        description="Decode an N x N grid over the first two latent dimensions (prior quantiles 5%%..95%%).",
    )
    p.add_argument("--grid", metavar="N", type=_positive_int, default=15, help="grid size per side")
    _add_run_args(p, "grid.png in the run folder")
    p.set_defaults(func=_sample)


def _add_plot_latent(sub):
    p = sub.add_parser(
        "plot-latent", formatter_class=_Formatter, help="scatter the test set's latent means by class",
        description="Encode the test set and plot z_mean coloured by label (PCA to 2-D when latent_dim > 2).",
    )
    _add_run_args(p, "latent.png in the run folder")
    p.add_argument("--data-dir", metavar="DIR", default=None, help="folder with the dataset's IDX files")
    p.set_defaults(func=_plot_latent)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="vae", formatter_class=_Formatter,
        description="Train Variational Autoencoders with Keras 3 and look at what they learned.",
        epilog="examples:\n  vae train --config configs/mnist.yaml\n  vae sample --grid 15\n  vae plot-latent",
    )
    parser.add_argument("--version", action="version", version=f"vae {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in (_add_train, _add_sample, _add_plot_latent):
        add(sub)
    return parser


def _train(args):
    from vae_cli import session
    from vae_cli.config import load_config

    # A live progress bar on a terminal; one line per epoch in logs and pipes.
    verbose = 1 if sys.stdout.isatty() else 2
    if args.resume:
        if args.config or args.overrides:
            raise ConfigError("--resume uses the run's own config.yaml; drop --config and --set")
        result = session.resume(args.resume, args.data_dir, verbose)
    else:
        overrides = list(args.overrides)
        if args.data_dir:
            overrides.append(f"data.data_dir={args.data_dir}")
        cfg = load_config(args.config, overrides)
        result = session.start(cfg, sys.argv[1:], verbose)
    if result.already_finished:
        print(f"{result.run_dir} already finished ({result.epochs} epochs); nothing to resume.")
        return 0
    if result.resumed_from:
        print(f"Resumed after epoch {result.resumed_from}.")
    t = result.test
    print(
        f"\nTest loss: {t['loss']:.2f} nats per image "
        f"(reconstruction {t['reconstruction_loss']:.2f} + KL {t['kl_loss']:.2f}; "
        f"-ELBO {t['reconstruction_loss'] + t['kl_loss']:.2f}) after {result.epochs} epoch{'s' * (result.epochs != 1)}, "
        f"best epoch {result.best_epoch}, {result.seconds_per_epoch:.1f} s per epoch"
    )
    print(f"Run folder: {result.run_dir}")
    print("Look at it:")
    for name in ("grid.png", "latent.png", "loss.png", "samples/"):
        print(f"  {result.run_dir / name}")
    print(f"  vae sample --grid 20 --run {result.run_dir}")
    print(f"  vae plot-latent --run {result.run_dir}")
    return 0


def _sample(args):
    from vae_cli import commands

    print(commands.sample_grid(args.grid, args.run, args.out, args.output_dir))
    return 0


def _plot_latent(args):
    from vae_cli import commands

    print(commands.plot_latent(args.run, args.out, args.output_dir, args.data_dir))
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except VaeError as exc:
        command = args.func.__name__.strip("_").replace("_", "-")
        kind = "" if exc.exit_code == EXIT_INTERRUPTED else "error: "
        print(f"vae {command}: {kind}{exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("vae: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED

