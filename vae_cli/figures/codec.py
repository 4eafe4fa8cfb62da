"""A run's encoder and decoder behind one interface for every model kind, as the figures use them.

``encode`` gives z_mean of q(z|x) (a kind without a prior: its deterministic code);
``decode`` the decoder's image of z. A conditional kind's encoder and decoder take
the class as well, as integer labels or as rows of class weights (a one-hot row, or
a mixture of two classes along an interpolation).

Every call is one batched pass (``latents.batched``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_cli.figures import latents
from vae_cli.kinds import ModelKind


class Codec:
    """Encodes images to codes and decodes codes to images, handing a cvae its labels.

    ``models`` has an ``encoder`` and a ``decoder``, each read when first used: a figure that only
    decodes never loads the encoder.
    """

    def __init__(self, models: Any, kind: ModelKind, classes: int = 0) -> None:
        self.models, self.kind, self.classes = models, kind, classes

    @property
    def encoder(self) -> Any:
        return self.models.encoder

    @property
    def decoder(self) -> Any:
        return self.models.decoder

    @property
    def conditional(self) -> bool:
        return self.kind.conditional

    @property
    def latent_dim(self) -> int:
        return int(self.decoder.inputs[0].shape[-1])

    def weights(self, labels: Any, count: int) -> np.ndarray:
        """``labels`` (one int, ints, or rows of class weights) as ``count`` rows of class weights."""
        labels = np.asarray(labels)
        if labels.ndim == 2:
            return labels.astype("float32")
        rows = np.eye(self.classes, dtype="float32")[labels.astype(int)]
        return np.broadcast_to(rows, (count, self.classes)) if labels.ndim == 0 else rows

    def _inputs(self, x: np.ndarray, labels: Any) -> Any:
        if not self.conditional:
            return x
        if labels is None:
            raise ValueError("a conditional model needs the labels of what it encodes or decodes")
        return [x, self.weights(labels, len(x))]

    def encode(self, images: np.ndarray, labels: Any = None) -> np.ndarray:
        """z_mean (or an autoencoder's code) of each image; a cvae needs the images' labels."""
        return latents.encode_means(self.encoder, self._inputs(images, labels))

    def decode(self, z: np.ndarray, labels: Any = None) -> np.ndarray:
        """The decoder's images of ``z``; a cvae decodes each as ``labels`` (one class for all, or one each)."""
        return latents.batched(self.decoder, self._inputs(np.asarray(z, dtype="float32"), labels))

    def reconstruct(self, images: np.ndarray, labels: Any = None) -> np.ndarray:
        """Reconstructions through the mean code: what the model keeps of each image."""
        return self.decode(self.encode(images, labels), labels)
