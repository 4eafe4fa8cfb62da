"""The commands, one module each: its argparse subparser (``add``) beside its handler (``run``)."""

from vae_cli.cli.commands import (
    compare,
    completion,
    configs,
    evaluate,
    export,
    init,
    interpolate,
    list,
    plot_latent,
    reconstruct,
    sample,
    show,
    train,
    traverse,
    tune,
)

# The order ``vae --help`` lists them in.
COMMANDS = (
    train,
    sample,
    plot_latent,
    reconstruct,
    interpolate,
    traverse,
    evaluate,
    show,
    list,
    compare,
    export,
    tune,
    configs,
    init,
    completion,
)
