"""The benchmark's own arithmetic and measuring code, on tiny inputs (it asserts no speed)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from vae_cli.config import ModelConfig

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
import step_costs  # noqa: E402  (a script folder, not a package)


def test_training_flops_of_the_classic_model_match_a_count_by_hand():
    forward = (
        2 * 14 * 14 * 32 * 1 * 9  # encoder Conv2D 32, 3x3, stride 2
        + 2 * 7 * 7 * 64 * 32 * 9  # encoder Conv2D 64, 3x3, stride 2
        + 2 * 3136 * 64  # encoder Dense 64
        + 2 * (2 * 64 * 2)  # z_mean and z_log_var
        + 2 * 2 * 14 * 14 * 64  # decoder Dense
        + 2 * 14 * 14 * 64 * 32 * 9  # Conv2DTranspose 32, 3x3, counted on its input
        + 2 * 28 * 28 * 32 * 1 * 25  # output Conv2D 1, 5x5
    )
    assert step_costs.training_flops(ModelConfig()) == 3 * forward


def test_compute_layers_lists_encoder_then_decoder_in_data_order():
    from vae_cli.model.build import build_models

    vae = build_models(ModelConfig(), (28, 28, 1)).vae
    names = [layer.name for layer in step_costs.compute_layers(vae)]
    assert names == [
        "encoder_conv_0",
        "encoder_conv_1",
        "encoder_dense",
        "z_mean",
        "z_log_var",
        "decoder_dense",
        "decoder_deconv_0",
        "x_logits",
    ]


@pytest.mark.parametrize("numpy_arrays", [True, False])
def test_images_per_second_trains_and_reports_a_rate(numpy_arrays):
    tiny = ModelConfig(encoder_filters=[4, 8], encoder_dense=8, decoder_channels=8, decoder_filters=[4])
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28, 1), dtype=np.uint8)
    rate = step_costs.images_per_second(tiny, images, 16, "float32", numpy_arrays, passes=1)
    assert np.isfinite(rate) and rate > 0
