"""``vae configs``: the built-in configs and search spaces, one line each with what it trains."""

from __future__ import annotations

import argparse
from typing import Any

from vae_cli.cli import report
from vae_cli.cli.arguments import add_json, add_parser


def add(sub: Any) -> None:
    p = add_parser(
        sub,
        "configs",
        "list the built-in configs: vae train --config NAME uses one, vae init NAME copies one to edit",
        "The configs that ship with vae, usable by name from any folder:\n"
        "  vae train --config mnist\n  vae init mnist my_mnist.yaml   (a copy to edit)",
    )
    add_json(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from vae_cli.builtin_configs import all_builtins

    found = all_builtins()
    if args.json:
        return report.print_json(
            [{"name": b.name, "space": b.is_space, "summary": b.summary(), "path": str(b.path)} for b in found]
        )
    width = max(len(b.name) for b in found)
    for title, spaces in (
        ("Configs (vae train --config NAME):", False),
        ("Search spaces (vae tune --space NAME):", True),
    ):
        print(title)
        for b in found:
            if b.is_space == spaces:
                print(f"  {b.name:<{width}}  {b.summary()}")
    return 0
