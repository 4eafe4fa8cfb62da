import pytest

from vae_cli import config
from vae_cli.cli.options import set_override
from vae_cli.config import Config, dump_yaml
from vae_cli.errors import ConfigError


def load_config(path=None, items=()):
    """The config as ``vae train --config PATH --set ITEM ...`` reads it."""
    return config.load_config(path, [set_override(item) for item in items])


def write(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(tmp_path, text, overrides=()):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), overrides)
    return str(info.value)


def test_defaults_without_a_file():
    cfg = load_config()
    assert cfg == Config()
    assert cfg.model.latent_dim == 2 and cfg.train.beta == 1.0 and cfg.output.dir == "outputs"


def test_shipped_configs_load():
    for name in ("mnist", "fashion_mnist"):
        cfg = load_config(f"configs/{name}.yaml")
        assert cfg.data.dataset == name
        assert cfg.output.name == name


def test_scientific_notation_is_a_float(tmp_path):
    cfg = load_config(write(tmp_path, "train:\n  learning_rate: 1e-3\n  beta: 2E0\n"))
    assert cfg.train.learning_rate == pytest.approx(0.001)
    assert isinstance(cfg.train.beta, float) and cfg.train.beta == 2.0


def test_int_is_accepted_for_float():
    cfg = load_config(None, ["train.beta=1"])
    assert cfg.train.beta == 1.0 and isinstance(cfg.train.beta, float)


def test_set_overrides_file_values_as_yaml(tmp_path):
    path = write(tmp_path, "train:\n  epochs: 10\n")
    cfg = load_config(
        path,
        [
            "train.epochs=3",
            "model.latent_dim=8",
            "data.dataset=fashion_mnist",
            "model.encoder_filters=[8, 16]",
            "data.limit=null",
        ],
    )
    assert cfg.train.epochs == 3 and cfg.model.latent_dim == 8
    assert cfg.data.dataset == "fashion_mnist" and cfg.model.encoder_filters == [8, 16]


def test_later_set_wins():
    assert load_config(None, ["train.epochs=3", "train.epochs=4"]).train.epochs == 4


@pytest.mark.parametrize(
    "text, expected",
    [
        ("model:\n  latent_dimm: 2\n", "unknown config key model.latent_dimm; did you mean model.latent_dim?"),
        ("trian:\n  epochs: 2\n", "unknown config key trian; did you mean train?"),
        ("train:\n  epochs: three\n", "train.epochs: must be an integer, got str 'three'"),
        ("train:\n  epochs: 2.5\n", "train.epochs: must be an integer, got float 2.5"),
        ("train:\n  epochs: true\n", "train.epochs: must be an integer, got bool True"),
        ("train:\n  learning_rate: fast\n", "train.learning_rate: must be a number, got str 'fast'"),
        ("train:\n  epochs: -1\n", "train.epochs: must be >= 1, got -1"),
        ("train:\n  batch_size: 0\n", "train.batch_size: must be >= 1, got 0"),
        ("model:\n  latent_dim: 0\n", "model.latent_dim: must be >= 1, got 0"),
        ("train:\n  beta: -0.5\n", "train.beta: must be >= 0.0, got -0.5"),
        (
            "data:\n  dataset: cifar\n",
            "data.dataset: must be one of mnist | fashion_mnist | image_folder | npz, got 'cifar'",
        ),
        ("model:\n  encoder_filters: 32\n", "model.encoder_filters: must be a non-empty list, got int 32"),
        ("model:\n  encoder_filters: [32, x]\n", "model.encoder_filters[1]: must be an integer, got str 'x'"),
        ("model: 3\n", "model: must be a mapping of keys, got int 3"),
        ("- a\n- b\n", "the top level must be a mapping"),
        ("train:\n  epochs: 2\n  epochs: 3\n", "duplicate key 'epochs'"),
        ("train:\n  epochs: [2\n", "invalid YAML (line 3, column 1)"),
        ("train: !!python/object:os.system x\n", "invalid YAML"),
    ],
)
def test_bad_configs_name_the_key(tmp_path, text, expected):
    assert expected in error_of(tmp_path, text)


@pytest.mark.parametrize(
    "item, expected",
    [
        ("train.epochs", "expected KEY=VALUE"),
        ("epochs=3", "keys are SECTION.NAME"),
        ("train.epochz=3", "unknown config key train.epochz; did you mean train.epochs?"),
        ("train.epochs=[", "--set train.epochs: invalid YAML"),
    ],
)
def test_bad_overrides(item, expected):
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[")):
        load_config(None, [item])


def test_missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_empty_file_means_defaults(tmp_path):
    assert load_config(write(tmp_path, "")) == Config()


def test_resolved_config_round_trips(tmp_path):
    cfg = load_config(None, ["train.learning_rate=2e-4", "model.latent_dim=5", "output.name=x"])
    assert load_config(write(tmp_path, dump_yaml(cfg))) == cfg


def test_readme_documents_every_config_key():
    from pathlib import Path

    from vae_cli.config import describe_keys

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [key for key, _, _ in describe_keys() if f"| `{key}` |" not in readme]
    assert not missing, f"README's config table lacks {missing}"


def test_cross_key_rules():
    with pytest.raises(ConfigError, match="data.path: required with data.dataset: npz"):
        load_config(None, ["data.dataset=npz"])
    with pytest.raises(ConfigError, match=r"data.image_size: must be \[height, width\]"):
        load_config(None, ["data.image_size=[8, 8, 8]"])
    with pytest.raises(ConfigError, match="train.devices: only used with train.distribute: mirrored"):
        load_config(None, ["train.devices=['/cpu:0']"])


def test_several_files_merge_key_by_key_later_wins_and_overrides_win_over_files(tmp_path):
    first = write(tmp_path, "model:\n  latent_dim: 4\n  encoder_dense: 32\ntrain:\n  epochs: 5\n", "a.yaml")
    second = write(tmp_path, "model:\n  latent_dim: 6\ntrain:\noutput:\n  name: b\n", "b.yaml")
    cfg, sources = config.resolve_config([first, second], [("train.epochs", 9, "--set")])
    assert (cfg.model.latent_dim, cfg.model.encoder_dense, cfg.train.epochs, cfg.output.name) == (6, 32, 9, "b")
    assert sources["model.latent_dim"] == str(second) and sources["model.encoder_dense"] == str(first)
    assert sources["train.epochs"] == "--set" and sources["output.name"] == str(second)
    assert sources["train.beta"] == "default" and set(sources) == {k for k, _, _ in config.describe_keys()}
    reversed_cfg, _ = config.resolve_config([second, first])
    assert reversed_cfg.model.latent_dim == 4 and reversed_cfg.train.epochs == 5
    assert config.load_config([first, second]) == config.resolve_config([first, second])[0]


def test_every_file_of_several_is_checked(tmp_path):
    good = write(tmp_path, "train:\n  epochs: 2\n", "good.yaml")
    bad = write(tmp_path, "train:\n  epochz: 2\n", "bad.yaml")
    with pytest.raises(ConfigError, match="did you mean train.epochs"):
        config.resolve_config([good, bad])
    with pytest.raises(ConfigError, match="nope.yaml does not exist"):
        config.resolve_config([good, tmp_path / "nope.yaml"])


@pytest.mark.parametrize(
    "value", [None, True, [500, 500], 0.0014, "outputs", "/gpu:0", ["/gpu:0"], "1e-3", "a #b", "it's", "null", ""]
)
def test_yaml_text_reads_back_as_the_same_value(value):
    from vae_cli.yamlfile import parse_yaml, yaml_text

    assert parse_yaml(f"key: {yaml_text(value)}  # a comment", "t") == {"key": value}


def test_yaml_text_spells_values_as_yaml():
    from vae_cli.yamlfile import yaml_text

    assert [yaml_text(v) for v in (None, True, [500, 500], "mnist")] == ["null", "true", "[500, 500]", "mnist"]
