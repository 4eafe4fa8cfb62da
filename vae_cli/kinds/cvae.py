"""``model.kind: cvae``: a VAE whose encoder and decoder are both given the one-hot class, q(z|x, y) and p(x|z, y)."""

from __future__ import annotations

from typing import Any

from vae_cli.errors import ConfigError
from vae_cli.kinds.vae import VAE


class CVAE(VAE):
    name = "cvae"
    help = "cvae: encoder and decoder given the class"
    conditional = True

    def check_data(self, model: Any, class_names: list[str], source: str) -> None:
        if len(class_names) < 2:
            raise ConfigError(
                f"model.kind: {self.name} needs labelled data with at least 2 classes, and {source} has one "
                "(images at the top of a folder, or an .npz without y_train); put each class in its own "
                "sub-folder or add y_train and y_test, or use model.kind: vae"
            )

    def epoch_samples_note(self, images: int) -> str:
        return "one class per row, the same z per column"


KIND = CVAE()
