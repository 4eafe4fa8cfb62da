"""Flag parsing (``--range``, ``--dims``): any text gives a usable value or one ``ConfigError`` line."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vae_cli.cli import options
from vae_cli.cli.main import main
from vae_cli.errors import ConfigError
from vae_cli.limits import MAX_LATENT_DIM, MAX_LATENT_VALUE

PROPERTY = settings(max_examples=200, deadline=None)
NUMBERISH = st.one_of(
    st.floats().map(repr),
    st.integers().map(str),
    st.text(st.sampled_from(list("0123456789.-+eE_ infatyn")), max_size=10),
)
RANGES = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda kind, low, high: f"{kind}:{low}:{high}",
        st.sampled_from(["ppf", "linear", "data", "cubic", ""]),
        NUMBERISH,
        NUMBERISH,
    ),
)
DIMS = st.one_of(st.text(max_size=20), st.builds(lambda a, b: f"{a},{b}", st.integers(), st.integers()))


@PROPERTY
@given(text=RANGES)
def test_any_range_gives_a_finite_span_or_one_config_error(text):
    try:
        kind, low, high = options.grid_range(text)
    except ConfigError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return
    assert kind in ("ppf", "linear", "data") and math.isfinite(low) and math.isfinite(high) and low < high
    assert kind == "linear" and max(-low, high) <= MAX_LATENT_VALUE or 0 < low and high < 1


@PROPERTY
@given(text=DIMS)
def test_any_dims_gives_two_dimensions_or_one_config_error(text):
    try:
        dims = options.grid_dims(text)
    except ConfigError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return
    assert dims == "active" or len(dims) == 2 and dims[0] != dims[1] and all(abs(d) < MAX_LATENT_DIM for d in dims)


@pytest.mark.parametrize(
    "args, message, help",
    [
        (["sample", "--grid", "0"], "vae sample: error: argument --grid: must be at least 1, got 0", "vae sample"),
        (["sample", "--bogus"], "vae: error: unrecognized arguments: --bogus", "vae"),
        (
            ["evaluate", "--binarize", "x"],
            "vae evaluate: error: argument --binarize: invalid choice: 'x'",
            "vae evaluate",
        ),
    ],
)
def test_usage_errors_are_one_line_with_a_pointer_to_help(capsys, args, message, help):
    with pytest.raises(SystemExit) as stop:
        main(args)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith(message) and err.count("\n") == 1
    assert err.endswith(f"; see {help} --help\n")
