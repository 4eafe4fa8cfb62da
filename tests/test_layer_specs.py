"""The ``layers`` vocabulary and the model-kind rules: every mistake is a one-line config error naming the key."""

import pytest

from vae_cli import kinds, layer_specs
from vae_cli.cli.options import set_override
from vae_cli.config import load_config
from vae_cli.errors import ConfigError

LAYERS = [
    "model.architecture=layers",
    "model.encoder_layers=[{conv: 8, stride: 2}, {dense: 16}]",
    "model.decoder_layers=[{dense: 392}, {reshape: [7, 7, 8]}, {upsample: 2}, {conv_transpose: 4, stride: 2}, {conv: 1}]",
]


def config(*items):
    return load_config(None, [set_override(item) for item in items])


def config_error(*items):
    with pytest.raises(ConfigError) as info:
        config(*items)
    return str(info.value)


def data_error(cfg, shape=(28, 28, 1), classes=10):
    with pytest.raises(ConfigError) as info:
        kinds.check_data(cfg.model, shape, [str(i) for i in range(classes)], "data.npz")
    return str(info.value)


def test_a_layers_config_reads_and_fits_the_images():
    cfg = config(*LAYERS)
    kinds.check_data(cfg.model, (28, 28, 1), [str(i) for i in range(10)], "mnist")
    specs = layer_specs.parse("model.decoder_layers", cfg.model.decoder_layers)
    assert [s.kind for s in specs] == ["dense", "reshape", "upsample", "conv_transpose", "conv"]
    shapes = layer_specs.walk(specs, (2,), kernel=3)
    assert shapes == [(392,), (7, 7, 8), (14, 14, 8), (28, 28, 4), (28, 28, 1)]


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("{conv: 8, kernl: 3}", "model.encoder_layers[0] {conv: 8, kernl: 3}: unknown option kernl; conv takes kernel"),
        ("{conv: 8, dense: 4}", "model.encoder_layers[0] {conv: 8, dense: 4}: two layer kinds (conv, dense)"),
        ("{lstm: 8}", "model.encoder_layers[0] {lstm: 8}: no layer kind; each entry is one of conv, conv_transpose"),
        ("{conv: 0}", "model.encoder_layers[0] {conv: 0}: the filters must be an integer >= 1, got 0"),
        ("{conv: 8.5}", "the filters must be an integer >= 1, got 8.5"),
        ("{pool: 1}", "model.encoder_layers[0] {pool: 1}: the pool size must be an integer >= 2, got 1"),
        ("{conv: 8, stride: 0}", "stride must be an integer >= 1, got 0"),
        ("{conv: 8, padding: full}", "padding must be same or valid, got 'full'"),
        ("{dense: 8, activation: magic}", "activation must be one of relu, elu"),
        ("{upsample: 2, activation: relu}", "unknown option activation; upsample takes no options"),
        ("{reshape: [7, 7]}", "reshape takes [height, width, channels] or [units] of positive integers"),
        ("conv", "model.encoder_layers[0]: must be a mapping, got str 'conv'"),
    ],
)
def test_malformed_entries_name_the_layer(entry, expected):
    message = config_error("model.architecture=layers", f"model.encoder_layers=[{entry}]", LAYERS[2])
    assert expected in message and "\n" not in message


@pytest.mark.parametrize(
    "encoder, decoder, expected",
    [
        (
            "[{conv: 8, kernel: 5, stride: 2, padding: valid}, {conv: 8, kernel: 13, padding: valid}]",
            None,
            "model.encoder_layers[1] {conv: 8, kernel: 13, padding: valid}: shrinks the 12x12x8 feature map to nothing",
        ),
        (
            "[{dense: 16}, {conv: 8}]",
            None,
            "model.encoder_layers[1] {conv: 8}: needs a feature map (height, width, channels) but gets a flat vector",
        ),
        (
            None,
            "[{dense: 300}, {reshape: [7, 7, 8]}]",
            "model.decoder_layers[1] {reshape: [7, 7, 8]}: cannot reshape 300 (300 values) into [7, 7, 8] (392 values)",
        ),
        (
            None,
            "[{dense: 392}, {reshape: [7, 7, 8]}, {upsample: 2}, {conv: 1}]",
            "model.decoder_layers[3] {conv: 1}: the decoder ends at 14x14x1, but the images are 28x28x1; "
            "model.decoder_layers must come back to the image size",
        ),
        (
            None,
            "[{dense: 392}, {reshape: [7, 7, 8]}, {upsample: 4}, {conv: 3}]",
            "the decoder ends at 28x28x3, but the images are 28x28x1",
        ),
        (
            None,
            "[{dense: 784, activation: sigmoid}]",
            "model.decoder_layers[0] {dense: 784, activation: sigmoid}: the decoder's last layer gives logits, so its "
            "activation must be linear",
        ),
    ],
)
def test_shapes_that_do_not_come_back_to_the_image_name_the_layer(encoder, decoder, expected):
    items = list(LAYERS)
    if encoder:
        items[1] = f"model.encoder_layers={encoder}"
    if decoder:
        items[2] = f"model.decoder_layers={decoder}"
    message = data_error(config(*items))
    assert expected in message and "\n" not in message


def test_a_dense_decoder_ending_at_the_pixel_count_is_reshaped_to_the_image():
    cfg = config(*LAYERS[:2], "model.decoder_layers=[{dense: 64}, {dense: 784}]")
    kinds.check_data(cfg.model, (28, 28, 1), ["a", "b"], "x")
    with pytest.raises(ConfigError, match="the images are 32x32x3"):
        kinds.check_data(cfg.model, (32, 32, 3), ["a", "b"], "x")


def test_a_cvae_decoder_starts_from_z_and_the_label():
    # latent 2 + 10 classes: 12 values reach the decoder's first layer
    cfg = config(*LAYERS[:2], "model.kind=cvae", "model.decoder_layers=[{reshape: [2, 2, 3]}, {dense: 784}]")
    kinds.check_data(cfg.model, (28, 28, 1), [str(i) for i in range(10)], "x")
    assert "cannot reshape 12 (12 values)" in data_error(
        config(*LAYERS[:2], "model.kind=cvae", "model.decoder_layers=[{reshape: [2, 2, 2]}, {dense: 784}]")
    )


@pytest.mark.parametrize(
    "items, expected",
    [
        (["model.encoder_layers=[{dense: 8}]"], "model.encoder_layers: only used with model.architecture: layers"),
        (["model.architecture=layers", LAYERS[1]], "model.decoder_layers: required with model.architecture: layers"),
        (["train.objective=iwae"], "train.samples: the iwae objective needs k >= 2 importance samples, got 1"),
        (
            ["model.kind=ae", "train.objective=iwae", "train.samples=5"],
            "train.objective: iwae needs a stochastic encoder",
        ),
        (["model.kind=ae", "train.samples=2"], "train.samples: 2, but model.kind ae draws no samples"),
        (["model.kind=ae", "train.kl_warmup_epochs=3"], "train.kl_warmup_epochs: model.kind ae has no KL term"),
        (["model.kind=gan"], "model.kind: must be one of vae | ae | cvae, got 'gan'"),
        (["train.objective=vimco"], "train.objective: must be one of elbo | iwae, got 'vimco'"),
        (["train.samples=0"], "train.samples: must be >= 1, got 0"),
        (["data.validation_size=0"], "data.validation_size: must be >= 1, got 0"),
        (["model.architecture=layers", "model.encoder_layers=[]"], "model.encoder_layers: must be a non-empty list"),
        (
            ["model.architecture=layers", "model.encoder_layers=[3]"],
            "model.encoder_layers[0]: must be a mapping, got int 3",
        ),
    ],
)
def test_rules_between_kind_objective_and_architecture(items, expected):
    message = config_error(*items)
    assert expected in message and "\n" not in message


def test_a_cvae_needs_labelled_data():
    cfg = config("model.kind=cvae")
    message = data_error(cfg, classes=1)
    assert message.startswith("model.kind: cvae needs labelled data with at least 2 classes, and data.npz has one")
    kinds.check_data(cfg.model, (28, 28, 1), ["a", "b"], "x")  # two classes are enough


def test_the_best_epoch_is_judged_by_the_kind():
    row = {"val_reconstruction_loss": 100.0, "val_kl_loss": 20.0, "val_iwae_loss": 110.0, "val_loss": 1.0}
    assert kinds.epoch_score(row, "vae", "elbo", 1.0) == 120.0
    assert kinds.epoch_score(row, "cvae", "elbo", 0.5) == 110.0
    assert kinds.epoch_score(row, "vae", "iwae", 1.0) == 110.0
    assert kinds.epoch_score(row, "ae", "elbo", 1.0) == 100.0
    assert kinds.epoch_score({"val_reconstruction_loss": "x"}, "ae", "elbo", 1.0) != 0  # nan, never "best"
