"""The argparse part of the commands that work across runs or out of them: ``list``, ``compare``, ``export``."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli import defaults
from vae_cli.cli.arguments import add_json, add_parser, add_run_args
from vae_cli.names import EXPORT_FORMATS


def add_list(sub: Any) -> None:
    p = add_parser(
        sub,
        "list",
        "a table of the runs in the output folder",
        "One line per run folder: name, status, dataset, kind, latent size, epochs, best validation loss,\n"
        "test -ELBO and, once `vae evaluate` has measured it, the NLL (no TensorFlow needed).",
    )
    p.add_argument("--output-dir", metavar="DIR", default=defaults.OUTPUT_DIR, help="where to look for runs")
    add_json(p)


def add_compare(sub: Any) -> None:
    p = add_parser(
        sub,
        "compare",
        "overlay runs' validation -ELBO curves; tabulate the settings in which they differ",
        "Draw the validation -ELBO per epoch of several runs on one chart and print the config keys whose\n"
        "values differ between them, with each run's results (no TensorFlow needed).",
    )
    p.add_argument(
        "runs",
        metavar="RUN",
        nargs="*",
        help="run folders, or folder names under --output-dir (default: every run there)",
    )
    p.add_argument("--output-dir", metavar="DIR", default=defaults.OUTPUT_DIR, help="where to look for runs")
    p.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="file to write (default: compare-<RUN>_vs_<RUN>.png beside the first run)",
    )
    add_json(p)


def add_export(sub: Any) -> None:
    p = add_parser(
        sub,
        "export",
        "write the encoder and decoder for other runtimes, each checked against Keras",
        "Write the run's encoder and decoder into RUN/export/ in each --format, load every file back in\n"
        "its own runtime and print the largest difference from the Keras model's outputs.",
    )
    p.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        action="append",
        default=None,
        dest="formats",
        help="keras (.keras), savedmodel (TensorFlow SavedModel folder), tflite (LiteRT), onnx; "
        "repeatable (default: keras)",
    )
    add_run_args(p, None, data=False)
    add_json(p)


def formats_of(args: argparse.Namespace) -> list[str]:
    return args.formats or ["keras"]
