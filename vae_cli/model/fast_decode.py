"""The decoder as evaluation runs it: z -> float32 logits for many samples per call.

Two changes from the saved decoder, neither changing what it computes:

- in a mixed precision (``mixed_bfloat16``, the training precision on CPUs with native
  bfloat16) the layers are rebuilt under that policy with the same float32 weights,
  as the run trained them; the estimator checks the result against float32 and falls
  back when they disagree (``estimate.evaluate``);
- a stride-1 Conv2D to a few channels (the conv decoders' output layer) is computed as a
  depthwise convolution followed by a sum over its input channels, in float32: the same
  products and sums in another order. oneDNN vectorises a convolution over its output
  channels, so one output channel leaves it little to do at once; the depthwise form
  vectorises over the 32 or more input channels and runs several times faster. It has
  no gradient of its own, which evaluation does not need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

FEW_CHANNELS = 4  # output channels up to which the depthwise form pays (1 grey, 3 colour)


class DepthwiseSum(keras.layers.Layer):
    """A trained Conv2D's function computed as depthwise convolution + channel sum, in float32 (never saved)."""

    def __init__(self, conv: keras.layers.Conv2D, **kwargs: Any) -> None:
        super().__init__(dtype="float32", **kwargs)
        self.conv = conv

    def call(self, inputs: Any) -> Any:
        import tensorflow as tf

        conv = self.conv
        kernel = tf.convert_to_tensor(conv.kernel.value)  # (kh, kw, in, out): a depthwise filter of multiplier out
        y = tf.nn.depthwise_conv2d(tf.cast(inputs, tf.float32), kernel, [1, 1, 1, 1], "SAME")
        shape = tf.shape(y)
        y = tf.reduce_sum(tf.reshape(y, tf.concat([shape[:3], kernel.shape[2:]], axis=0)), axis=3)
        if conv.use_bias:
            y = y + tf.convert_to_tensor(conv.bias.value)
        return conv.activation(y)


def depthwise_form_applies(layer: keras.layers.Layer) -> bool:
    """True for a plain stride-1 'same' Conv2D to at most FEW_CHANNELS channels."""
    return (
        type(layer) is keras.layers.Conv2D
        and layer.filters <= FEW_CHANNELS
        and tuple(layer.strides) == (1, 1)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.groups == 1
        and layer.padding == "same"
        and layer.data_format == "channels_last"
    )


def decoder_for_evaluation(decoder_logits: keras.Model, precision: str = "float32") -> Callable[[Any], Any]:
    """A function z -> logits (float32), computing what ``decoder_logits`` computes; see the module docstring.

    ``decoder_logits`` must be a functional model (as built and as loaded) of plain layers; its layers
    are copied, not called again, so the model given stays as it was.
    """
    import tensorflow as tf

    rebuilt: list[tuple[keras.layers.Layer, keras.layers.Layer]] = []

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if depthwise_form_applies(layer):
            return DepthwiseSum(layer, name=f"{layer.name}_depthwise_sum")
        copy = layer.__class__.from_config({**layer.get_config(), "dtype": precision})
        rebuilt.append((layer, copy))
        return copy

    model = keras.models.clone_model(decoder_logits, clone_function=clone)
    for original, copy in rebuilt:
        copy.set_weights(original.get_weights())

    def logits(z: Any) -> Any:
        return tf.cast(model(z, training=False), tf.float32)

    return logits
