"""The one entry point to every dataset: the data source that ``data.dataset`` names loads it."""

from __future__ import annotations

from vae_cli.config import DataConfig
from vae_cli.data.source import DataSource
from vae_cli.data.types import Data
from vae_cli.sources import SOURCES


def load_data(data_cfg: DataConfig, splits: tuple[str, ...] = ("train", "test"), seed: int = 0) -> Data:
    """Loads the configured dataset; the splits not asked for are empty.

    ``seed`` draws the held-out split of datasets that have no test set of their own, and
    the validation split that MNIST and Fashion-MNIST hold out of their training images
    (``data.limit`` then takes the first N of the images left for training).
    """
    source: DataSource = SOURCES.get(data_cfg.dataset)
    data = source.load(data_cfg, splits, seed)
    if data_cfg.limit is not None:
        data.train = data.train.head(data_cfg.limit)
    return data
