"""``vae init NAME [PATH]``: a built-in config copied out to edit; nothing existing is overwritten."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vae_cli.cli.arguments import add_parser, path_text
from vae_cli.errors import ConfigError, RunError


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "init",
        "copy a built-in config to a file of your own to edit",
        "Write a copy of a built-in config (see vae configs) to edit, then train from it:\n"
        "  vae init mnist my_mnist.yaml && vae train --config my_mnist.yaml",
    )
    p.add_argument(
        "name", metavar="NAME", help="a built-in config or search space, e.g. mnist or seeds/seed_000_keras_conv_vae"
    )
    p.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        type=path_text,
        default=None,
        help="the file to write, or a folder to write NAME.yaml into (default: NAME.yaml here)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.builtin_configs import find, suggestion

    found = find(args.name)
    if found is None:
        raise ConfigError(f"{args.name} is no built-in config ({suggestion(args.name)}); `vae configs` lists them")
    target = Path(args.path) if args.path else Path(found.path.name)
    if target.is_dir():
        target = target / found.path.name
    try:
        with open(target, "x", encoding="utf-8") as f:  # "x": never an existing file, never through a link
            f.write(found.path.read_text(encoding="utf-8"))
    except FileExistsError:
        raise RunError(f"{target} exists; vae init never overwrites a file: pass another PATH or remove it") from None
    verb = "vae tune --config FILE --space" if found.is_space else "vae train --config"
    print(f"wrote {target}; edit it, then: {verb} {target}")
    return 0
