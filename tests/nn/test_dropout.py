"""Dropout: drop fraction, inverted scaling, evaluation mode, randomness, gradient."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import Dropout, Sequential
from chainrule.nn import functional as F


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_drop_fraction_and_survivor_scaling(rate):
    z = np.ones((400, 250), dtype=np.float32)
    out = Dropout(rate, rng=0)(cr.Tensor(z)).data
    dropped = np.mean(out == 0)
    # 100,000 Bernoulli draws: the fraction is within 4 standard errors of `rate`.
    assert abs(dropped - rate) < 4 * np.sqrt(rate * (1 - rate) / z.size)
    np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)
    assert out.dtype == np.float32
    assert abs(out.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_eval_mode_is_identity_and_rate_zero_is_identity():
    layer = Dropout(0.5, rng=0)
    x = cr.Tensor(np.arange(6.0).reshape(2, 3))
    assert layer.eval()(x) is x
    assert Dropout(0.0)(x) is x
    assert F.dropout(x, 0.9, training=False) is x


def test_train_mode_switch_through_a_container():
    model = Sequential(Dropout(0.5, rng=0))
    x = cr.Tensor(np.ones((50, 50)))
    assert np.any(model(x).data == 0)
    model.eval()
    np.testing.assert_array_equal(model(x).data, x.data)
    model.train()
    assert np.any(model(x).data == 0)


def test_gradient_is_the_same_mask(grads_match):
    x = cr.Tensor(np.random.default_rng(0).normal(size=(6, 5)), requires_grad=True)
    out = Dropout(0.4, rng=1)(x)
    out.backward(np.ones_like(out.data))
    mask = out.data / x.data  # the mask that was applied: 0 or 1/(1 − rate)
    np.testing.assert_allclose(x.grad, mask)
    assert set(np.round(np.unique(mask), 9)) <= {0.0, round(1 / 0.6, 9)}
    # With a fixed generator state the op is deterministic, so central differences apply.
    grads_match(lambda: (F.dropout(x, 0.4, rng=np.random.default_rng(3)) ** 2).sum(), [x])


def test_seeded_masks_are_reproducible_and_advance():
    x = cr.Tensor(np.ones((20, 20)))
    a, b = Dropout(0.5, rng=7), Dropout(0.5, rng=7)
    first = a(x).data
    np.testing.assert_array_equal(first, b(x).data)
    assert not np.array_equal(first, a(x).data)  # a new mask each call
    layer = Dropout(0.5)  # default generator, governed by cr.set_seed
    cr.set_seed(5)
    m1 = layer(x).data
    cr.set_seed(5)
    np.testing.assert_array_equal(layer(x).data, m1)


def test_rate_one_drops_everything_in_the_function():
    out = F.dropout(cr.Tensor(np.ones(5)), 1.0)
    np.testing.assert_array_equal(out.data, 0.0)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_invalid_rates_raise(rate):
    with pytest.raises(ValueError, match="rate"):
        Dropout(rate)


def test_invalid_functional_rate_raises():
    with pytest.raises(ValueError, match="rate"):
        F.dropout(cr.Tensor(np.ones(3)), 2.0)


def test_repr():
    assert repr(Dropout(0.3)) == "Dropout(rate=0.3)"
