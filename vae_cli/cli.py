"""Command-line entry point: argparse, one builder per subcommand, errors and exit codes.

This is the only module that reads argv, prints to the terminal or picks an
exit code. It imports nothing heavy, so ``vae --help`` answers at once.
"""

import argparse
import sys

from vae_cli import __version__
from vae_cli.errors import EXIT_INTERRUPTED, ConfigError, VaeError


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Shows "(default: X)" after every option that has a meaningful default and does not say it."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if "(default" in text or not action.option_strings or default is None or default is False or default == []:
            return text
        if default is argparse.SUPPRESS:
            return text
        return f"{text} (default: %(default)s)"


def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_index = _int_at_least(0)


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


def _add_parser(sub, name, help, description, func):
    p = sub.add_parser(name, formatter_class=_Formatter, help=help, description=description)
    p.set_defaults(func=func)
    return p


def _add_run_args(parser, out_default, data=True):
    parser.add_argument(
        "--run", metavar="DIR", default=None,
        help="run folder to use (default: the most recent run under --output-dir)",
    )
    parser.add_argument("--output-dir", metavar="DIR", default="outputs", help="where to look for runs")
    if out_default:
        parser.add_argument("--out", metavar="FILE", default=None, help=f"file to write (default: {out_default})")
    if data:
        parser.add_argument(
            "--data-dir", metavar="DIR", default=None,
            help="folder with the dataset's IDX files (default: as for the run, or the folder it was trained from)",
        )


def _add_seed(parser, what):
    parser.add_argument("--seed", metavar="N", type=_index, default=0, help=f"seed that picks {what}")


def _add_train(sub):
    from vae_cli.config import describe_keys

    keys = "\n".join(f"  {key:<30} {default!r:<14} {help}" for key, default, help in describe_keys())
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
    p = _add_parser(
        sub, "sample", "decode a latent grid, or random samples, into one PNG",
        "Decode an N x N grid over two latent dimensions (default), or N random draws from the prior.",
        _sample,
    )
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--grid", metavar="N", type=_positive_int, default=None, help="grid size per side (default: 15)")
    kind.add_argument("--random", metavar="N", type=_positive_int, default=None, help="N images from z ~ N(0, I)")
    p.add_argument(
        "--range", metavar="SPEC", default="ppf:0.05:0.95", dest="range_text",
        help="grid coordinates: ppf:LOW:HIGH (prior quantiles), linear:MIN:MAX, or data[:LOW:HIGH] "
             "(percentiles of the test set's z_mean)",
    )
    p.add_argument("--dims", metavar="I,J", default=None, help="the two latent dimensions the grid varies (default: 0,1)")
    p.add_argument("--no-axes", action="store_true", help="the grid's pixels alone, no title or ticks (for papers)")
    _add_seed(p, "the random samples")
    _add_run_args(p, "grid.png, grid-<options>.png or random-N-seedS.png in the run folder")


def _add_plot_latent(sub):
    p = _add_parser(
        sub, "plot-latent", "scatter latent means coloured by class",
        "Encode a data split and plot z_mean coloured by label; latent_dim > 2 is projected to 2-D.",
        _plot_latent,
    )
    p.add_argument("--method", choices=["pca", "tsne"], default="pca",
                   help="2-D projection when latent_dim > 2 (t-SNE: exact, NumPy, on --limit points)")
    p.add_argument("--split", choices=["test", "train"], default="test", help="which images to encode")
    p.add_argument("--limit", metavar="N", type=_positive_int, default=None,
                   help="a random N of the split's images (default: all; 2000 for tsne)")
    _add_seed(p, "the --limit images and the t-SNE start")
    _add_run_args(p, "latent.png or latent-<options>.png in the run folder")


def _add_reconstruct(sub):
    p = _add_parser(
        sub, "reconstruct", "test images above their reconstructions",
        "Pick test images covering every class (seeded) and show them above their decodings of z_mean.",
        _reconstruct,
    )
    p.add_argument("-n", metavar="N", type=_positive_int, default=10, help="how many test images")
    _add_seed(p, "the test images")
    _add_run_args(p, "reconstructions.png in the run folder")


def _add_interpolate(sub):
    p = _add_parser(
        sub, "interpolate", "decode the straight line between two test images' latent means",
        "Encode two test images, decode evenly spaced points between their z_means; PNG strip and GIF.",
        _interpolate,
    )
    p.add_argument("--from", metavar="I", type=_index, default=None, dest="start",
                   help="test image index to start from (default: random, seeded)")
    p.add_argument("--to", metavar="J", type=_index, default=None, dest="end",
                   help="test image index to end at (default: random of another class)")
    p.add_argument("--steps", metavar="N", type=_int_at_least(2), default=10, help="decoded points, ends included")
    _add_seed(p, "the images when --from/--to are not given")
    _add_run_args(p, "interpolation-I-J.png and .gif in the run folder")


def _add_traverse(sub):
    p = _add_parser(
        sub, "traverse", "vary one latent dimension at a time around a test image",
        "Decode a test image's z_mean with one dimension moved in steps; one row per dimension.",
        _traverse,
    )
    p.add_argument("--dim", metavar="K", type=_index, default=None,
                   help="only this dimension (default: all, or the 10 most active when latent_dim > 10)")
    p.add_argument("--index", metavar="I", type=_index, default=None, help="test image index (default: random, seeded)")
    p.add_argument("--steps", metavar="N", type=_int_at_least(2), default=11, help="values per dimension")
    p.add_argument("--span", metavar="S", type=_positive_float, default=3.0, help="move each dimension by -S..+S")
    _add_seed(p, "the test image")
    _add_run_args(p, "traverse-I.png in the run folder")


def _add_evaluate(sub):
    p = _add_parser(
        sub, "evaluate", "test-set -ELBO, importance-weighted NLL, KL per dimension, active units",
        "Measure a run on the test set in nats per image (beta = 1 whatever the training beta) and record\n"
        "the numbers in the run's metrics.json.",
        _evaluate,
    )
    p.add_argument("--k", metavar="K", type=_index, default=5000,
                   help="importance samples per image for the NLL (0: skip the NLL)")
    p.add_argument("--samples", metavar="S", type=_positive_int, default=10,
                   help="Monte Carlo samples of z per image for the ELBO")
    p.add_argument("--binarize", choices=["none", "static", "dynamic"], default=None,
                   help="test-data treatment (default: as the run was trained)")
    p.add_argument("--limit", metavar="N", type=_positive_int, default=None,
                   help="only the first N test images, for a quick estimate")
    _add_seed(p, "the Monte Carlo samples")
    _add_run_args(p, None)


def _add_show(sub):
    p = _add_parser(
        sub, "show", "print a run's summary: config, losses, model sizes, files",
        "Summarise a run folder in the terminal (no TensorFlow needed).", _show,
    )
    _add_run_args(p, None, data=False)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="vae", formatter_class=_Formatter,
        description="Train Variational Autoencoders with Keras 3 and look at what they learned.",
        epilog="examples:\n  vae train --config configs/mnist.yaml\n  vae sample --grid 15\n  vae plot-latent\n"
               "  vae reconstruct\n  vae show",
    )
    parser.add_argument("--version", action="version", version=f"vae {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in (_add_train, _add_sample, _add_plot_latent, _add_reconstruct, _add_interpolate, _add_traverse,
                _add_evaluate, _add_show):
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
    epochs = f"{result.epochs} epoch{'s' * (result.epochs != 1)}"
    print(
        f"\nTest loss: {t['loss']:.2f} nats per image "
        f"(reconstruction {t['reconstruction_loss']:.2f} + KL {t['kl_loss']:.2f}; "
        f"-ELBO {t['reconstruction_loss'] + t['kl_loss']:.2f}) after {epochs}, "
        f"best epoch {result.best_epoch}, {result.seconds_per_epoch:.1f} s per epoch"
    )
    print(f"Run folder: {result.run_dir}")
    print("Look at it:")
    for name in ("grid.png", "latent.png", "loss.png", "progress.gif"):
        print(f"  {result.run_dir / name}")
    for command in ("show", "reconstruct", "sample --random 64", "interpolate", "traverse"):
        print(f"  vae {command} --run {result.run_dir}")
    return 0


def _view(args):
    from vae_cli.commands import RunView

    return RunView(args.run, args.output_dir, getattr(args, "data_dir", None))


def _print_paths(paths):
    for path in paths:
        print(path)
    return 0


def _sample(args):
    from vae_cli import commands

    view = _view(args)
    if args.random is not None:
        return _print_paths(commands.sample_random(view, args.random, args.seed, args.out))
    grid = commands.GRID if args.grid is None else args.grid
    return _print_paths(commands.sample_grid(view, grid, args.range_text, args.dims, not args.no_axes, args.out))


def _plot_latent(args):
    from vae_cli import commands

    return _print_paths(commands.plot_latent(_view(args), args.method, args.split, args.limit, args.seed, args.out))


def _reconstruct(args):
    from vae_cli import commands

    return _print_paths(commands.reconstruct(_view(args), args.n, args.seed, args.out))


def _interpolate(args):
    from vae_cli import commands

    return _print_paths(commands.interpolate(_view(args), args.start, args.end, args.steps, args.seed, args.out))


def _traverse(args):
    from vae_cli import commands

    view = _view(args)
    return _print_paths(commands.traverse(view, args.dim, args.index, args.steps, args.span, seed=args.seed, out=args.out))


def _evaluate(args):
    import time

    from vae_cli import commands

    started = time.monotonic()

    def progress(done, total):
        if not sys.stderr.isatty() and done < total:
            return  # a progress bar is for people watching; logs get the result
        elapsed = time.monotonic() - started
        eta = elapsed / done * (total - done)
        end = "\n" if done == total else ""
        print(f"\r  {done}/{total} test images, {_duration(elapsed)} elapsed, ETA {_duration(eta)}   ",
              end=end, file=sys.stderr, flush=True)

    view = _view(args)
    metrics, entry, path = commands.evaluate(view, args.k, args.samples, args.binarize, args.limit, args.seed,
                                             progress)
    treated = entry["binarize"] + ("" if entry["binarize"] == entry["trained_with_binarize"]
                                   else f" (trained with {entry['trained_with_binarize']})")
    print(f"{view.dir}: {metrics.images} test images, binarize {treated}, nats per image")
    print(f"  -ELBO                 {metrics.negative_elbo:9.2f}   ({metrics.samples} samples of z per image)")
    print(f"    reconstruction      {metrics.reconstruction:9.2f}")
    print(f"    KL                  {metrics.kl:9.2f}")
    if metrics.nll is not None:
        print(f"  NLL (IWAE, k={metrics.k:<5})  {metrics.nll:9.2f}")
    if entry["binarize"] == "none":
        print("  (grey levels under a Bernoulli likelihood: comparable between runs, not with published NLLs)")
    print(f"  active units          {metrics.active_units:6d} of {len(metrics.kl_per_dim)}")
    kl = ", ".join(f"{v:.2f}" for v in metrics.kl_per_dim[:20])
    more = "" if len(metrics.kl_per_dim) <= 20 else f", ... ({len(metrics.kl_per_dim)} in metrics.json)"
    print(f"  KL per dimension      {kl}{more}")
    print(f"  {metrics.seconds:.0f} s; recorded in {path}")
    return 0


def _duration(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def _show(args):
    from vae_cli import info

    for line in info.summary(args.run, args.output_dir):
        print(line)
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
