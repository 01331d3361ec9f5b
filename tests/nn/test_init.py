"""Initializers: statistics against their definitions, fans, dtypes, seeds, the name table."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import Dense, SquaredError, init

SHAPE = (300, 400)  # (out, in): fan_in 400, fan_out 300; 120,000 draws


def test_fans_follow_out_in_layout():
    assert init.fans((3, 5)) == (5, 3)
    assert init.fans((4, 2, 3, 3)) == (2 * 9, 4 * 9)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.fans((5,))


def test_he_normal_std_is_sqrt_2_over_fan_in():
    w = init.he_normal(SHAPE, rng=0)
    np.testing.assert_allclose(w.std(), np.sqrt(2 / 400), rtol=0.01)
    assert abs(w.mean()) < 4 * np.sqrt(2 / 400) / np.sqrt(w.size)
    fan_out = init.he_normal(SHAPE, rng=0, mode="fan_out")
    np.testing.assert_allclose(fan_out.std(), np.sqrt(2 / 300), rtol=0.01)


def test_he_uniform_bound_and_variance():
    w = init.he_uniform(SHAPE, rng=0)
    bound = np.sqrt(6 / 400)
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.var(), 2 / 400, rtol=0.02)


def test_xavier_uniform_is_bounded_by_sqrt_6_over_fan_sum():
    w = init.xavier_uniform(SHAPE, rng=0)
    bound = np.sqrt(6 / (400 + 300))
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.var(), 2 / (400 + 300), rtol=0.02)
    np.testing.assert_allclose(init.xavier_uniform(SHAPE, rng=0, gain=2.0), 2 * w, rtol=1e-6)


def test_xavier_normal_std():
    w = init.xavier_normal(SHAPE, rng=0)
    np.testing.assert_allclose(w.std(), np.sqrt(2 / 700), rtol=0.01)


def test_fixed_scale_initializers():
    np.testing.assert_allclose(init.normal(SHAPE, rng=0, mean=1.0, std=0.1).std(), 0.1, rtol=0.01)
    np.testing.assert_allclose(init.normal(SHAPE, rng=0, mean=1.0, std=0.1).mean(), 1.0, rtol=1e-3)
    u = init.uniform(SHAPE, rng=0, low=-0.2, high=0.6)
    assert u.min() >= -0.2 and u.max() < 0.6
    np.testing.assert_allclose(u.mean(), 0.2, atol=0.005)
    assert np.all(init.zeros((2, 3)) == 0) and init.zeros(4).shape == (4,)
    assert np.all(init.ones((2, 3)) == 1)
    assert np.all(init.constant((2, 2), value=0.5) == 0.5)
    with pytest.raises(ValueError, match="std"):
        init.normal((2, 2), std=-1.0)
    with pytest.raises(ValueError, match="low <= high"):
        init.uniform((2, 2), low=1.0, high=0.0)


@pytest.mark.parametrize("name", ["normal", "uniform", "xavier_uniform", "he_normal", "zeros"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_dtype_and_seed(name, dtype):
    fn = init.get_initializer(name)
    a = fn((5, 4), np.random.default_rng(1), dtype)
    assert a.dtype == dtype and a.shape == (5, 4)
    np.testing.assert_array_equal(a, fn((5, 4), rng=1, dtype=dtype))
    cr.set_seed(3)
    b = fn((5, 4), dtype=dtype)
    cr.set_seed(3)
    np.testing.assert_array_equal(fn((5, 4), dtype=dtype), b)


def test_aliases_and_short_names():
    assert init.glorot_uniform is init.xavier_uniform
    assert init.glorot_normal is init.xavier_normal
    assert init.kaiming_uniform is init.he_uniform
    assert init.kaiming_normal is init.he_normal
    assert init.get_initializer("xavier") is init.xavier_uniform
    assert init.get_initializer("he") is init.he_normal
    assert init.get_initializer("Zeros") is init.zeros
    assert init.get_initializer(init.normal) is init.normal
    with pytest.raises(ValueError, match=r"unknown initializer 'lecun'.*xavier_uniform"):
        init.get_initializer("lecun")


def test_zero_init_keeps_hidden_units_identical():
    """The symmetry problem: with W = 0 all hidden units get the same update, for ever."""
    rng = np.random.default_rng(0)
    hidden = Dense(3, 4, init="zeros", dtype=np.float64)
    out = Dense(4, 1, init="constant", dtype=np.float64)  # equal outgoing weights
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    for _ in range(5):  # a few steps of gradient descent
        hidden.zero_grad()
        out.zero_grad()
        SquaredError()(out(hidden(x).tanh()), y).backward()
        for p in [*hidden.parameters(), *out.parameters()]:
            p.data -= 0.5 * p.grad
    rows = hidden.weight.data
    np.testing.assert_array_equal(rows, np.broadcast_to(rows[0], rows.shape))
    assert np.all(rows == 0)  # tanh: δ of the hidden layer is W⁽²⁾ᵀδ⁽²⁾ = 0 as W⁽²⁾ stays 0
    random = Dense(3, 4, rng=0, dtype=np.float64)
    assert len({tuple(r) for r in random.weight.data}) == 4
