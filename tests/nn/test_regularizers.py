"""L1 / L2 penalties: values, gradients, and which parameters they touch."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import (
    BatchNorm,
    Dense,
    ReLU,
    Sequential,
    l1_penalty,
    l2_penalty,
    penalized_weights,
)


@pytest.fixture
def model():
    net = Sequential(
        Dense(3, 4, rng=0, dtype=np.float64),
        BatchNorm(4, dtype=np.float64),
        ReLU(),
        Dense(4, 2, rng=1, dtype=np.float64),
    )
    for p in net.parameters():  # make biases and γ, β non-trivial
        p.data += 0.3
    return net


def test_only_dense_weights_are_penalized(model):
    assert [id(w) for w in penalized_weights(model)] == [id(model[0].weight), id(model[3].weight)]


def test_penalty_values(model):
    w1, w2 = model[0].weight.data, model[3].weight.data
    np.testing.assert_allclose(
        l1_penalty(model, 0.1).item(), 0.1 * (np.abs(w1).sum() + np.abs(w2).sum())
    )
    # L2 is ½ λ Σ w² (so its gradient is λ w, the same as weight_decay=λ).
    np.testing.assert_allclose(
        l2_penalty(model, 0.1).item(), 0.05 * ((w1**2).sum() + (w2**2).sum())
    )


@pytest.mark.parametrize(("penalty", "grad"), [(l1_penalty, np.sign), (l2_penalty, lambda w: w)])
def test_gradients_reach_weights_only(penalty, grad, model):
    penalty(model, 0.2).backward()
    np.testing.assert_allclose(model[0].weight.grad, 0.2 * grad(model[0].weight.data))
    np.testing.assert_allclose(model[3].weight.grad, 0.2 * grad(model[3].weight.data))
    for name, p in model.named_parameters():
        if not name.endswith("weight") or name.startswith("1."):
            assert p.grad is None, name  # biases, γ and β are not penalized


@pytest.mark.parametrize("penalty", [l1_penalty, l2_penalty])
def test_penalties_pass_gradient_check_added_to_a_loss(penalty, model, grads_match, rng):
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    model.eval()  # deterministic
    weights = penalized_weights(model)
    grads_match(lambda: cr.nn.MSELoss()(model(x), y) + penalty(model, 0.3), weights)


def test_shared_weight_counted_once_and_float32():
    layer = Dense(2, 2, rng=0)
    net = Sequential(layer, layer)
    value = l2_penalty(net, 1.0)
    assert value.dtype == np.float32
    np.testing.assert_allclose(value.item(), 0.5 * (layer.weight.data**2).sum(), rtol=1e-6)


def test_zero_lambda_and_no_weights_give_a_constant_zero(model):
    assert l2_penalty(model, 0.0).item() == 0.0
    assert not l1_penalty(ReLU(), 1.0).requires_grad
    with pytest.raises(ValueError, match="non-negative"):
        l2_penalty(model, -1.0)


def test_penalties_take_the_list_of_weights_found_once():
    import chainrule as cr
    from chainrule.nn import Dense, Sequential, Tanh, l1_penalty, l2_penalty, penalized_weights

    net = Sequential(Dense(3, 4, rng=0), Tanh(), Dense(4, 2, rng=1))
    weights = penalized_weights(net)
    for penalty in (l1_penalty, l2_penalty):
        by_module, by_list = penalty(net, 0.3), penalty(weights, 0.3)
        assert by_list.item() == by_module.item()
        by_list.backward()
        grads = [w.grad.copy() for w in weights]
        net.zero_grad()
        by_module.backward()
        for w, g in zip(weights, grads, strict=True):
            np.testing.assert_array_equal(w.grad, g)
        net.zero_grad()
    assert cr.grad_check(lambda *ws: l2_penalty(list(ws), 0.5), weights)
