"""The argparse definition of every command and option; imports nothing heavy."""

from __future__ import annotations

import argparse

from vae_cli import __version__, defaults, limits
from vae_cli.cli import catalog_parsers, figure_parsers
from vae_cli.cli.arguments import (
    HELP_WIDTH,
    Formatter,
    Parser,
    add_json,
    add_overrides,
    add_parser,
    add_run_args,
    add_seed,
    count_or_all,
    int_between,
)
from vae_cli.cli.tuning_arguments import add_tune


def _key_table() -> str:
    """Every config key with its default in YAML spelling and its meaning, wrapped to HELP_WIDTH."""
    import textwrap

    from vae_cli.config import describe_keys
    from vae_cli.yamlfile import yaml_text

    rows = [(key, yaml_text(default), help) for key, default, help in describe_keys()]
    key_width = max(len(key) for key, _, _ in rows) + 2
    default_width = max(len(default) for _, default, _ in rows) + 2
    indent = 2 + key_width + default_width
    lines = []
    for key, default, help in rows:
        wrapped = textwrap.wrap(help, HELP_WIDTH - indent) or [""]
        lines.append(f"  {key:<{key_width}}{default:<{default_width}}{wrapped[0]}".rstrip())
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines)


def _add_train(sub):
    p = sub.add_parser(
        "train",
        formatter_class=Formatter,
        help="train a VAE and save a run folder",
        description="Train a VAE from YAML configs; writes outputs/<name>-<timestamp>/.",
        epilog=f"config keys (for the YAML file or --set), with defaults:\n{_key_table()}",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        action="append",
        default=[],
        help="YAML config; repeatable: later files win key by key (default: built-in defaults)",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        default=None,
        help="continue an interrupted run from its last completed epoch, with its own config.yaml",
    )
    add_overrides(
        p, "override a config key, value parsed as YAML; repeatable, wins over the files (e.g. --set train.epochs=3)"
    )
    add_json(p)
    p.add_argument("--output-dir", metavar="DIR", default=None, help="parent folder of the run folders (= output.dir)")
    p.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved config as YAML, each key's source in a comment; train nothing, write nothing",
    )
    p.set_defaults(command="train")


def _add_evaluate(sub):
    p = add_parser(
        sub,
        "evaluate",
        "test-set -ELBO, importance-weighted NLL, KL per dimension, active units",
        "Measure a run on the test set in nats per image (beta = 1 whatever the training beta), record\n"
        "the numbers in the run's metrics.json and draw the KL of each latent dimension. The defaults\n"
        "take minutes; the time is estimated on stderr after a first chunk. For published comparisons:\n"
        "--k 5000 --limit all.",
    )
    p.add_argument(
        "--k",
        metavar="K",
        type=int_between(0, limits.MAX_K),
        default=defaults.EVALUATE_K,
        help=f"importance samples per image for the NLL, at most {limits.MAX_K:,} (0: skip the NLL)",
    )
    p.add_argument(
        "--samples",
        metavar="S",
        type=int_between(1, limits.MAX_SAMPLES),
        default=defaults.EVALUATE_SAMPLES,
        help=f"Monte Carlo samples of z per image for the ELBO, at most {limits.MAX_SAMPLES:,}",
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
        type=count_or_all,
        default=defaults.EVALUATE_LIMIT,
        help=f"only the first N test images; 'all': the whole test set, as papers report "
        f"(default: {defaults.EVALUATE_LIMIT})",
    )
    add_seed(p, "the Monte Carlo samples")
    add_run_args(p, "kl-per-dim.png, or kl-per-dim-<options>.png, in the run folder")
    add_json(p)


def _add_show(sub):
    p = add_parser(
        sub,
        "show",
        "print a run's summary: config, losses, model sizes, files",
        "Summarise a run folder in the terminal (no TensorFlow needed).",
    )
    add_run_args(p, None, data=False)
    add_json(p)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="vae",
        formatter_class=Formatter,
        description="Train Variational Autoencoders with Keras 3 and look at what they learned.",
        epilog="examples:\n  vae train --config configs/mnist.yaml\n  vae sample --grid 15\n  vae plot-latent\n"
        "  vae reconstruct\n  vae show\n  vae list\n  vae compare RUN RUN\n"
        "  vae tune --config configs/mnist.yaml --space configs/tune_mnist.yaml --trials 30",
    )
    parser.add_argument("--version", action="version", version=f"vae {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in (
        _add_train,
        figure_parsers.add_sample,
        figure_parsers.add_plot_latent,
        figure_parsers.add_reconstruct,
        figure_parsers.add_interpolate,
        figure_parsers.add_traverse,
        _add_evaluate,
        _add_show,
        catalog_parsers.add_list,
        catalog_parsers.add_compare,
        catalog_parsers.add_export,
        add_tune,
    ):
        add(sub)
    return parser
