"""Activation modules and the ACTIVATIONS name table."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import (
    ACTIVATIONS,
    Identity,
    LeakyReLU,
    Module,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
)
from chainrule.nn import functional as F

X = np.array([[-2.0, -0.7, 0.3], [1.5, -0.2, 2.2]])


@pytest.mark.parametrize(
    ("module", "function"),
    [
        (Sigmoid(), F.sigmoid),
        (Tanh(), F.tanh),
        (ReLU(), F.relu),
        (LeakyReLU(0.3), lambda a: F.leaky_relu(a, 0.3)),
        (Identity(), F.identity),
        (Softmax(axis=0), lambda a: F.softmax(a, axis=0)),
    ],
)
def test_modules_compute_their_function_and_gradient(module, function, grads_match, rng):
    np.testing.assert_array_equal(module(cr.Tensor(X)).data, function(cr.Tensor(X)).data)
    assert module.num_parameters() == 0
    x = cr.Tensor(X.copy(), requires_grad=True)
    c = rng.normal(size=X.shape)
    grads_match(lambda: (module(x) * c).sum(), [x])


def test_repr_shows_settings():
    assert repr(LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(Softmax()) == "Softmax(axis=-1)"
    assert repr(Sigmoid()) == "Sigmoid()"


def test_table_lookup_gives_fresh_modules():
    for name in ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]:
        assert name in ACTIVATIONS
        module = get_activation(name)
        assert isinstance(module, ACTIVATIONS[name])
        assert get_activation(name) is not module
    assert isinstance(get_activation("logistic"), Sigmoid)  # scikit-learn's name
    assert isinstance(get_activation("ReLU"), ReLU)
    relu = ReLU()
    assert get_activation(relu) is relu
    assert all(issubclass(cls, Module) for cls in ACTIVATIONS.values())


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'.*sigmoid.*tanh.*relu"):
        get_activation("swish")
