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
        ("{conv: 0}", "model.encoder_layers[0] {conv: 0}: the filters must be an integer from 1 to 65536, got 0"),
        ("{conv: 8.5}", "the filters must be an integer from 1 to 65536, got 8.5"),
        ("{pool: 1}", "model.encoder_layers[0] {pool: 1}: the pool size must be an integer from 2 to 512, got 1"),
        ("{conv: 8, stride: 0}", "stride must be an integer from 1 to 512, got 0"),
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
        (["model.kind=gan"], "model.kind: must be one of vae | ae | cvae | btcvae, got 'gan'"),
        (["train.objective=vimco"], "train.objective: must be one of elbo | iwae, got 'vimco'"),
        (["train.samples=0"], "train.samples: must be >= 1, got 0"),
        (["data.validation_size=-1"], "data.validation_size: must be >= 0, got -1"),
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

    def score(kind, objective, beta):
        return kinds.Score(kinds.KINDS.get(kind), kinds.OBJECTIVES.get(objective), beta)

    assert score("vae", "elbo", 1.0).of(row) == 120.0
    assert score("cvae", "elbo", 0.5).of(row) == 110.0
    assert score("vae", "iwae", 1.0).of(row) == 110.0
    assert score("ae", "elbo", 1.0).of(row) == 100.0
    assert score("ae", "elbo", 1.0).of({"val_reconstruction_loss": "x"}) != 0  # nan, never "best"


@pytest.mark.parametrize(
    "entry, expected",
    [
        ('{conv: 8, "kernel\\nx": 3}', "unknown option 'kernel\\nx'; conv takes kernel"),
        ('{conv: 8, activation: "relu\\nrelu"}', "activation must be one of relu, elu"),
        ("{conv: 8, activation: " + "x" * 5000 + "}", "x... (5,000 characters)"),
        ("{conv: 8, " + "k" * 1000 + ": 3}", "unknown option " + "k" * 60 + "... (1,000 characters)"),
        ("{reshape: [" + ", ".join(["7"] * 64) + "]}", "reshape takes [height, width, channels] or [units]"),
    ],
)
def test_an_entry_with_long_or_multi_line_text_is_shown_on_one_short_line(entry, expected):
    message = config_error("model.architecture=layers", f"model.encoder_layers=[{entry}]", LAYERS[2])
    assert expected in message and "\n" not in message and len(message) < 500, message


@pytest.mark.parametrize(
    "entry, expected",
    [
        # TensorFlow aborts the process on a 1000-wide kernel and segfaults on a stride of 10^6
        ("{conv: 8, kernel: 64}", "kernel must be an integer from 1 to 63, got 64"),
        ("{conv_transpose: 8, kernel: 1000}", "kernel must be an integer from 1 to 63, got 1000"),
        ("{conv: 8, stride: 1000000}", "stride must be an integer from 1 to 512, got 1000000"),
        ("{pool: 513}", "the pool size must be an integer from 2 to 512, got 513"),
        ("{upsample: 100000}", "the factor must be an integer from 2 to 512, got 100000"),
        ("{conv: 65537}", "the filters must be an integer from 1 to 65536, got 65537"),
        ("{dense: " + "9" * 300 + "}", "the units must be an integer from 1 to 65536, got 999"),
    ],
)
def test_layer_sizes_are_capped_like_the_other_model_keys(entry, expected):
    message = config_error("model.architecture=layers", f"model.encoder_layers=[{entry}]", LAYERS[2])
    assert expected in message and len(message) < 500, message


@pytest.mark.parametrize(
    "encoder, expected",
    [
        # each would allocate tens of GB per batch: 28 * 512 = 14336 pixels a side
        (
            "[{upsample: 512}, {pool: 512}]",
            "model.encoder_layers[0] {upsample: 512}: gives a 14336x14336x1 feature map",
        ),
        (
            "[{conv_transpose: 4, stride: 63, kernel: 63}]",
            "model.encoder_layers[0] {conv_transpose: 4, stride: 63, kernel: 63}: gives a 1764x1764x4 feature map",
        ),
        ("[{conv: 65536}]", "gives a 28x28x65536 feature map (51,380,224 values per image), over the 8,388,608"),
    ],
)
def test_a_feature_map_too_large_for_memory_is_refused_before_building(encoder, expected):
    message = data_error(config(LAYERS[0], f"model.encoder_layers={encoder}", LAYERS[2]))
    assert expected in message and "\n" not in message, message


def test_a_conv_deep_sized_map_on_the_largest_images_still_fits():
    # conv_deep's first map on 512x512 images is 512x512x32 = 2^23 values, the cap
    cfg = config(
        LAYERS[0],
        "model.encoder_layers=[{conv: 32}, {pool: 8}]",
        "model.decoder_layers=[{dense: 12}, {reshape: [2, 2, 3]}, {upsample: 256}]",
    )
    kinds.check_data(cfg.model, (512, 512, 3), ["a", "b"], "x")


@pytest.mark.parametrize(
    "items, expected",
    [
        (
            ["train.objective=iwae", "train.samples=5000", "train.batch_size=64"],
            "train.samples: 5000 samples of z for each of train.batch_size 64 images are 320,000 decodings per "
            "training step, over the 65,536 allowed; lower train.samples or train.batch_size",
        ),
        (["train.samples=2", "train.batch_size=65536"], "are 131,072 decodings per training step"),
    ],
)
def test_samples_times_batch_size_is_capped_like_the_batch_size(items, expected):
    message = config_error(*items)
    assert expected in message and "\n" not in message, message
    config("train.objective=iwae", "train.samples=1024", "train.batch_size=64")  # 65,536: the cap itself
