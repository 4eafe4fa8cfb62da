import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

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
            "data.dataset: must be one of mnist | fashion_mnist | image_folder | npz | sprites, got 'cifar'",
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


@pytest.mark.parametrize(
    "item", ['data.path="/tmp/x\\0y"', 'output.dir="/tmp/cfg\\0x"', 'data.data_dir="\\0"', 'output.name="a\\0"']
)
def test_a_nul_byte_in_a_config_string_is_refused_printably(item):
    key = item.partition("=")[0]
    with pytest.raises(ConfigError) as info:
        load_config(None, [item])
    message = str(info.value)
    assert message.startswith(f"{key}: contains a NUL byte (\\x00)") and message.isprintable(), message


@pytest.mark.parametrize("device", ["/cpu:64", "/cpu:100000", "/gpu:64", "/device:GPU:99999999999999999999"])
def test_device_indices_are_capped(device):
    with pytest.raises(ConfigError) as info:
        load_config(None, ["train.distribute=mirrored", f"train.devices=['/cpu:0', '{device}']"])
    assert str(info.value).startswith(f"train.devices[1]: device indices run from 0 to 63, got '{device}'")


def test_the_highest_device_indices_load():
    cfg = load_config(None, ["train.distribute=mirrored", "train.devices=['/cpu:63', '/gpu:63', '/device:GPU:0']"])
    assert cfg.train.devices == ["/cpu:63", "/gpu:63", "/device:GPU:0"]


def test_missing_file_says_so(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_empty_file_means_defaults(tmp_path):
    assert load_config(write(tmp_path, "")) == Config()


def test_resolved_config_round_trips(tmp_path):
    cfg = load_config(None, ["train.learning_rate=2e-4", "model.latent_dim=5", "output.name=x"])
    assert load_config(write(tmp_path, dump_yaml(cfg))) == cfg


def test_the_config_reference_documents_every_config_key():
    from pathlib import Path

    from vae_cli.config import describe_keys

    page = (Path(__file__).resolve().parents[1] / "docs" / "reference" / "config.md").read_text()
    missing = [key for key, _, _ in describe_keys() if f"| `{key}` |" not in page]
    assert not missing, f"docs/reference/config.md lacks {missing}; run python docs/gen_reference.py"


def test_cross_key_rules():
    with pytest.raises(ConfigError, match="data.path: required with data.dataset: npz"):
        load_config(None, ["data.dataset=npz"])
    with pytest.raises(ConfigError, match=r"data.image_size: must be \[height, width\]"):
        load_config(None, ["data.image_size=[8, 8, 8]"])
    with pytest.raises(ConfigError, match="train.devices: only used with train.distribute: mirrored"):
        load_config(None, ["train.devices=['/cpu:0']"])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a: &a [*a]\n", "an alias refers to a node that contains it"),
        ("a: &x [1, 2]\nb: [*x, *x, *x]\n", "unknown config key a"),  # small aliases are fine
        ("{[1]: 2}\n", "found unhashable key"),
        ("{1: 2, foo: 3}\n", "unknown config key 1"),
        ("train:\n  epochs: 2001-13-45\n", "invalid YAML: month must be in 1..12"),
        ("train:\n  epochs: " + "9" * 5000 + "\n", "invalid YAML: Exceeds the limit (4300 digits)"),
        ("data:\n  image_size: [4096, 4096]\n", "data.image_size: at most 262,144 pixels"),
        ("model:\n  hidden_units: [" + "1, " * 65 + "1]\n", "model.hidden_units: at most 64 entries, got 66"),
        ("train:\n  seed: 4294967296\n", "train.seed: must be <= 4294967295"),
        (
            "data:\n  dataset: " + "x" * 1000 + "\n",
            "got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (1,002 characters)",
        ),
    ],
)
def test_hostile_yaml_is_one_config_error(tmp_path, text, expected):
    message = error_of(tmp_path, text)
    assert expected in message and len(message) < 300


def test_alias_expansion_is_counted_not_performed():
    from vae_cli.limits import CONFIG_MAX_NODES
    from vae_cli.yamlfile import parse_yaml

    width = 100  # two levels of 100 aliases: 10,000 strings plus the lists and the mapping that hold them
    text = "a: &a [" + ", ".join(["x"] * width) + "]\nb: [" + ", ".join(["*a"] * width) + "]\n"
    assert width * width + width + 4 > CONFIG_MAX_NODES
    with pytest.raises(ConfigError, match="more than 10,000 values once its aliases are expanded"):
        parse_yaml(text, "x.yaml")
    assert len(parse_yaml(text.replace(f"[{', '.join(['*a'] * width)}]", "[*a, *a]"), "x.yaml")["b"]) == 2


def test_the_size_cap_is_read_not_the_whole_file(tmp_path):
    from vae_cli.yamlfile import read_text_capped

    path = write(tmp_path, "# x\n" * 300_000)
    with pytest.raises(ConfigError, match="over 1,000,000 bytes"):
        read_text_capped(path)
    assert read_text_capped(write(tmp_path, "train:\n  epochs: 3\n", "ok.yaml")) == "train:\n  epochs: 3\n"


def test_describe_cuts_long_values():
    from vae_cli.errors import shown

    assert shown("abc") == "'abc'"
    assert shown("x" * 1000) == "'" + "x" * 59 + "... (1,002 characters)"
    assert shown(int("f" * 5000, 16)) == "a value too long to show"


# ------------------------------------------------------------ property-based: any input, one outcome

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The characters YAML gives meaning to, so that random text reaches anchors, aliases, tags and flow nesting.
YAML_TEXT = st.text(
    st.sampled_from(list("abefkmnostxz_.-+019eE:,[]{}&*!|>'\"#%@` \n\t?~") + ["\x00", "é"]), max_size=120
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
VALUES = st.recursive(
    SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(SCALARS, inner, max_size=3))
)
KEYS = st.sampled_from([key for key, _, _ in config.describe_keys()] + ["model.latent_dimm", "nope.x", "train"])


def _nested(pairs):
    raw = {}
    for key, value in pairs.items():
        section, _, name = key.partition(".")
        raw.setdefault(section, {})
        if isinstance(raw[section], dict):
            raw[section][name or "x"] = value
    return raw


CONFIG_TEXT = st.one_of(
    YAML_TEXT,
    st.text(max_size=60),
    st.dictionaries(KEYS, VALUES, max_size=5).map(lambda pairs: yaml.safe_dump(_nested(pairs), allow_unicode=True)),
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("property") / "c.yaml"


@PROPERTY
@given(text=CONFIG_TEXT)
def test_any_config_text_gives_a_config_or_one_config_error(scratch, text):
    scratch.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        assert isinstance(config.load_config(scratch), Config)
    except ConfigError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400 + len(str(scratch))


@PROPERTY
@given(item=st.one_of(st.text(max_size=80), st.builds(lambda key, value: f"{key}={value}", KEYS, YAML_TEXT)))
@example(item="0\n0=")  # a line break in the key once split the message in two
def test_any_set_gives_a_config_or_one_config_error(item):
    try:
        assert isinstance(load_config(None, [item]), Config)
    except ConfigError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 500


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
