"""Command-line entry point: runs the parsed command, prints its results, maps errors to exit codes.

This is the only module that reads argv, prints to the terminal or picks an
exit code. It imports nothing heavy, so ``vae --help`` answers at once.
"""

import sys

from vae_cli.errors import EXIT_INTERRUPTED, ConfigError, VaeError
from vae_cli.defaults import GRID
from vae_cli.parser import build_parser


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
        result = session.start(cfg, args.argv, verbose)
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
    grid = GRID if args.grid is None else args.grid
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

    from vae_cli import metrics as record

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
    metrics, entry, path = record.evaluate_run(view, args.k, args.samples, args.binarize, args.limit, args.seed,
                                             progress)
    treated = entry["binarize"] + ("" if entry["binarize"] == entry["trained_with_binarize"]
                                   else f" (trained with {entry['trained_with_binarize']})")
    print(f"{view.dir}: {metrics.images} test images, binarize {treated}, nats per image")
    print(f"  -ELBO                 {metrics.negative_elbo:9.2f}   ({metrics.samples} samples of z per image)")
    print(f"    reconstruction      {metrics.reconstruction:9.2f}")
    print(f"    KL                  {metrics.kl:9.2f}")
    if metrics.nll is not None:
        label = f"NLL (IWAE, k={metrics.k})"
        print(f"  {label:<22}{metrics.nll:9.2f}")
    if entry["binarize"] == "none" and entry["likelihood"] == "bernoulli":
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


_HANDLERS = {
    "train": _train, "sample": _sample, "plot-latent": _plot_latent, "reconstruct": _reconstruct,
    "interpolate": _interpolate, "traverse": _traverse, "evaluate": _evaluate, "show": _show,
}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in the run's manifest
    try:
        return _HANDLERS[args.command](args)
    except VaeError as exc:
        command = args.command
        kind = "" if exc.exit_code == EXIT_INTERRUPTED else "error: "
        print(f"vae {command}: {kind}{exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a file or folder the user named that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"vae {args.command}: error: {where}{exc.strerror or exc}; check the path, its permissions and "
              "the free space", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vae: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
