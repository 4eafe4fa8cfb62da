"""The one entry point to every dataset: MNIST-like IDX data or the user's own images."""

from __future__ import annotations

from vae_cli.config import DataConfig
from vae_cli.data import mnist, userdata
from vae_cli.data.types import Data
from vae_cli.data.validation import hold_out
from vae_cli.names import USER_DATASETS


def load_data(data_cfg: DataConfig, splits: tuple[str, ...] = ("train", "test"), seed: int = 0) -> Data:
    """Loads the configured dataset; the splits not asked for are empty.

    ``seed`` draws the held-out split of datasets that have no test set of their own, and
    the validation split that MNIST and Fashion-MNIST hold out of their training images
    (``data.limit`` then takes the first N of the images left for training).
    """
    if data_cfg.dataset in USER_DATASETS:
        data = userdata.load(data_cfg, seed)
    else:
        data = hold_out(mnist.load(data_cfg, splits), data_cfg.validation_size, seed)
    if data_cfg.limit is not None:
        data.train = data.train.head(data_cfg.limit)
    return data
