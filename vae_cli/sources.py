"""The data sources by name, the values ``data.dataset`` takes; each built-in is named by the module that defines it.

The config reader checks names here without importing any source (nor numpy);
``vae_cli.data.source.DataSource`` says what an entry gives.
"""

from vae_cli.registry import Registry

SOURCES = Registry(
    "data source",
    {
        "mnist": "vae_cli.data.mnist:MNIST",
        "fashion_mnist": "vae_cli.data.mnist:FASHION_MNIST",
        "image_folder": "vae_cli.data.userdata:IMAGE_FOLDER",
        "npz": "vae_cli.data.userdata:NPZ",
        "sprites": "vae_cli.data.sprites:SPRITES",
    },
)
