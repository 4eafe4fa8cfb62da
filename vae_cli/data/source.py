"""What a data source gives: the entries of ``vae_cli.sources.SOURCES``, one per value of ``data.dataset``."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from vae_cli.config import DataConfig
from vae_cli.data.types import Data


class DataSource(Protocol):
    name: str  # its value of data.dataset
    title: str | None  # for figure titles; None: named after the data read, as run.json records it
    class_names: list[str] | None  # None: found in the data, as run.json records them
    user_images: bool  # the user's own images: data.path is required and names the runs

    def load(self, data_cfg: DataConfig, splits: tuple[str, ...], seed: int) -> Data:
        """The dataset; the splits not asked for may be empty. ``seed`` draws any split held out of the images."""
        ...

    def local_folder(self, data_cfg: DataConfig) -> Path | None:
        """The folder that the config or the environment names for a local copy; None where none is named."""
        ...
