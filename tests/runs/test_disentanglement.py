"""The Mutual Information Gap: 1 for codes that copy the factors, 0 for noise, and its parts as defined."""

import math

import numpy as np
import pytest

from vae_cli.runs.disentanglement import BINS, discretize, entropy, mig, mutual_information, unscorable

NAMES = ["shape", "scale", "orientation", "x", "y"]
SMALL = (3, 6, 10, 16, 16)  # every factor has at most BINS values: a copy keeps all of it


def factor_draws(sizes, n=10_000, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, n) for s in sizes], axis=1)


def test_mutual_information_and_entropy_in_nats():
    a = np.repeat(np.arange(4), 400)
    assert entropy(a) == pytest.approx(math.log(4))
    assert mutual_information(a, a) == pytest.approx(math.log(4))
    assert mutual_information(a, a % 2) == pytest.approx(math.log(2))  # a tells b fully; b is one bit
    b = np.tile(np.arange(4), 400)  # every pair of values equally often: independent
    assert mutual_information(a, b) == pytest.approx(0.0, abs=1e-12)


def test_each_dimension_is_binned_over_its_own_range():
    codes = np.stack([np.linspace(0, 1, 1000), np.linspace(-50, 3, 1000)], axis=1)
    binned = discretize(codes)
    for column in binned.T:
        assert column.min() == 0 and column.max() == BINS - 1
        assert np.all(np.bincount(column) == 1000 // BINS)


def test_a_code_that_copies_the_factors_scores_one():
    factors = factor_draws(SMALL)
    codes = factors.astype(float) + np.random.default_rng(1).normal(0, 0.01, factors.shape)
    gap = mig(codes[:, [3, 0, 4, 2, 1]], factors, NAMES)  # the order of the dimensions does not matter
    assert gap.score == pytest.approx(1.0, abs=0.01)
    assert gap.most_informed()[0].startswith("x ") and gap.most_informed()[1].startswith("shape ")
    assert gap.most_informed(np.array([True, False, True, True, True]))[:2] == [gap.most_informed()[0], "inactive"]
    assert gap.samples == 10_000 and gap.bins == BINS


def test_noise_scores_near_zero():
    gap = mig(np.random.default_rng(2).normal(size=(10_000, 10)), factor_draws(SMALL), NAMES)
    assert 0 <= gap.score < 0.01
    assert gap.most_informed() == ["none"] * 10
    quiet = np.ones(10, bool)
    quiet[3] = False
    assert gap.most_informed(quiet) == ["none"] * 3 + ["inactive"] + ["none"] * 6


def test_a_factor_split_over_two_dimensions_has_no_gap():
    factors = factor_draws(SMALL)
    codes = np.concatenate([factors, factors[:, :1]], axis=1).astype(float)  # the shape twice
    gap = mig(codes, factors, NAMES)
    assert gap.per_factor[0] == pytest.approx(0.0, abs=1e-9)
    assert gap.score == pytest.approx(0.8, abs=0.01)  # the four others still score one each


def test_a_constant_factor_is_left_out_and_one_dimension_has_no_second():
    factors = factor_draws(SMALL)
    factors[:, 2] = 7
    gap = mig(factors[:, [0]].astype(float), factors, NAMES)
    assert gap.factor_names == ["shape", "scale", "x", "y"]
    assert gap.per_factor[0] == pytest.approx(1.0, abs=0.01) and gap.score == pytest.approx(0.25, abs=0.01)
    record = gap.record()
    assert set(record["per_factor"]) == set(gap.factor_names) and len(record["mutual_information"]) == 4


class FixedCodes:
    """An encoder stand-in that gives the next rows of ``codes``, batch by batch, whatever it is shown."""

    def __init__(self, codes):
        self.codes, self.done = codes, 0

    def __call__(self, x, training=False):
        count = len(x[0] if isinstance(x, list) else x)
        self.done += count
        return [self.codes[self.done - count : self.done], None]


def sprites_test_data():
    from vae_cli.config import DataConfig
    from vae_cli.data import sprites

    return sprites.SPRITES.load(DataConfig(dataset="sprites"), ("test",))


def test_codes_that_are_not_finite_are_not_scored_and_say_why():
    from vae_cli.runs.evaluation import _disentanglement

    data = sprites_test_data()
    codes = data.test.factors.astype("float32")
    codes[[3, 7]] = np.nan
    codes[9, 0] = np.inf
    assert unscorable(codes) == "z_mean is not finite for 3 of the 10,000 images"
    assert unscorable(np.zeros((5, 2))) is None
    gap, note = _disentanglement(FixedCodes(codes), data, "none", None)
    assert gap is None and note == "not scored: z_mean is not finite for 3 of the 10,000 images"


def test_a_conditional_model_is_not_scored_on_the_class_it_is_given():
    from vae_cli.runs.evaluation import _disentanglement

    data = sprites_test_data()
    gap, note = _disentanglement(FixedCodes(data.test.factors.astype("float32")), data, "none", ["a", "b", "c"])
    assert gap.factor_names == ["scale", "orientation", "x", "y"]
    assert note == "shape left out: the model is given it as its class"
    everything, none_left = _disentanglement(FixedCodes(data.test.factors.astype("float32")), data, "none", None)
    assert everything.factor_names == NAMES and none_left is None
