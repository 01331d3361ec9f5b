"""The activation functions, softmax and log-softmax: values, derivatives, stability."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra.numpy import array_shapes, arrays
from hypothesis.strategies import floats

import chainrule as cr
from chainrule.nn import functional as F

# Points away from the kinks of relu / leaky_relu, so central differences are exact enough.
X = np.array([[-2.0, -0.7, 0.3], [1.5, -0.2, 2.2]])

ACTIVATION_CASES = {
    "sigmoid": (F.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "tanh": (F.tanh, np.tanh),
    "relu": (F.relu, lambda a: np.maximum(a, 0)),
    "leaky_relu": (F.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a)),
    "identity": (F.identity, lambda a: a),
}


@pytest.mark.parametrize("name", list(ACTIVATION_CASES))
def test_activation_values_and_gradients(name, rng):
    fn, formula = ACTIVATION_CASES[name]
    np.testing.assert_allclose(fn(cr.Tensor(X)).data, formula(X), rtol=1e-12)
    c = rng.normal(size=X.shape)
    result = cr.grad_check(lambda a: (fn(a) * c).sum(), [X])
    assert result, result.report()


def test_derivatives_match_their_docstrings():
    a = cr.Tensor(X, requires_grad=True)
    F.sigmoid(a).sum().backward()
    s = 1 / (1 + np.exp(-X))
    np.testing.assert_allclose(a.grad, s * (1 - s))
    a.grad = None
    F.tanh(a).sum().backward()
    np.testing.assert_allclose(a.grad, 1 - np.tanh(X) ** 2)
    a.grad = None
    F.leaky_relu(a, negative_slope=0.2).sum().backward()
    np.testing.assert_array_equal(a.grad, np.where(X > 0, 1.0, 0.2))


def test_leaky_relu_keeps_float32():
    out = F.leaky_relu(cr.Tensor(np.array([-1.0, 2.0], np.float32)), 0.1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, [-0.1, 2.0], rtol=1e-6)


def test_identity_is_the_input_itself():
    t = cr.Tensor(X)
    assert F.identity(t) is t


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_sums_to_one_and_passes_grad_check(axis, rng):
    s = F.softmax(cr.Tensor(X), axis=axis).data
    np.testing.assert_allclose(s.sum(axis=axis), 1.0)
    e = np.exp(X)
    np.testing.assert_allclose(s, e / e.sum(axis=axis, keepdims=True))
    c = rng.normal(size=X.shape)
    result = cr.grad_check(lambda a: (F.softmax(a, axis=axis) * c).sum(), [X])
    assert result, result.report()


@pytest.mark.parametrize("axis", [-1, 0])
def test_log_softmax_equals_log_of_softmax_and_passes_grad_check(axis, rng):
    expected = np.log(F.softmax(cr.Tensor(X), axis=axis).data)
    np.testing.assert_allclose(F.log_softmax(cr.Tensor(X), axis=axis).data, expected)
    c = rng.normal(size=X.shape)
    result = cr.grad_check(lambda a: (F.log_softmax(a, axis=axis) * c).sum(), [X])
    assert result, result.report()


def test_softmax_and_log_softmax_are_stable_for_huge_logits():
    big = np.array([[1000.0, -1000.0, 999.0]], dtype=np.float32)
    s = F.softmax(cr.Tensor(big)).data
    assert np.all(np.isfinite(s)) and s.dtype == np.float32
    np.testing.assert_allclose(s, [[1 / (1 + np.exp(-1)), 0.0, 1 / (1 + np.e)]], rtol=1e-6)
    log_s = F.log_softmax(cr.Tensor(big)).data
    np.testing.assert_allclose(
        log_s,
        [[-np.log1p(np.exp(-1)), -2000 - np.log1p(np.exp(-1)), -1 - np.log1p(np.exp(-1))]],
        rtol=1e-6,
    )


def test_softmax_gradient_is_s_times_g_minus_weighted_mean(rng):
    a = cr.Tensor(X, requires_grad=True)
    g = rng.normal(size=X.shape)
    s = F.softmax(a)
    s.backward(g)
    expected = s.data * (g - (g * s.data).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(a.grad, expected)


@given(arrays(np.float64, array_shapes(min_dims=1, max_dims=2, max_side=4), elements=floats(-3, 3)))
def test_smooth_functions_pass_grad_check_on_random_shapes(x):
    c = np.linspace(-1.0, 1.0, x.size).reshape(x.shape)  # weights to make the sum non-trivial
    for fn in (F.sigmoid, F.tanh, F.softmax, F.log_softmax):
        result = cr.grad_check(lambda a, fn=fn: (fn(a) * c).sum(), [x])
        assert result, f"{fn.__name__}: {result.report()}"
