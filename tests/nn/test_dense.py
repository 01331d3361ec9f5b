"""Dense: shapes, initialization, the fused op against composed ops, and the lecture's δ."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import Dense, Linear, Sequential, Sigmoid, SquaredError
from chainrule.nn import functional as F


def test_weight_is_out_by_in_and_forward_is_Wz_plus_b(rng):
    layer = Dense(3, 2, rng=0)
    assert Linear is Dense
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, 0)
    layer.bias.data[:] = [0.5, -1.0]
    z = rng.normal(size=(4, 3)).astype(np.float32)
    a = layer(z)
    assert a.dtype == np.float32
    for n in range(4):  # each row is the lecture's a = W z + b for one sample
        np.testing.assert_allclose(a.data[n], layer.weight.data @ z[n] + layer.bias.data, 1e-6)


def test_without_bias_and_repr():
    layer = Dense(3, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert "bias=False" in repr(layer)


def test_init_by_name_callable_and_seed():
    a = Dense(50, 40, init="he_normal", rng=3).weight.data
    b = Dense(50, 40, init="he_normal", rng=3).weight.data
    np.testing.assert_array_equal(a, b)
    assert abs(a.std() - np.sqrt(2 / 50)) < 0.1 * np.sqrt(2 / 50)
    assert np.all(Dense(3, 2, init="zeros").weight.data == 0)
    custom = Dense(3, 2, init=lambda shape, rng, dtype: np.full(shape, 0.25, dtype))
    np.testing.assert_array_equal(custom.weight.data, 0.25)
    cr.set_seed(11)
    c = Dense(4, 4).weight.data
    cr.set_seed(11)
    np.testing.assert_array_equal(Dense(4, 4).weight.data, c)
    with pytest.raises(ValueError, match="valid names"):
        Dense(2, 2, init="nope")
    with pytest.raises(ValueError, match="shape"):
        Dense(2, 2, init=lambda shape, rng, dtype: np.zeros(3))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_sizes_raise(bad):
    with pytest.raises(ValueError, match="positive integer"):
        Dense(bad, 2)


def test_wrong_number_of_features_raises():
    with pytest.raises(ValueError, match="3 features"):
        Dense(3, 2)(np.ones((4, 2), np.float32))


def test_gradients_match_finite_differences(grads_match, rng):
    layer = Dense(4, 3, rng=0, dtype=np.float64)
    layer.bias.data[:] = rng.normal(size=3)
    x = cr.Tensor(rng.normal(size=(5, 4)), requires_grad=True)
    c = rng.normal(size=(5, 3))  # a random linear functional of the output
    grads_match(lambda: (layer(x) * c).sum(), [x, layer.weight, layer.bias])


def test_functional_linear_passes_grad_check(rng):
    result = cr.grad_check(
        lambda z, w, b: F.linear(z, w, b).tanh().sum(),
        [rng.normal(size=(3, 4)), rng.normal(size=(2, 4)), rng.normal(size=2)],
    )
    assert result, result.report()


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4)])
def test_linear_handles_1d_and_batched_inputs(shape, rng):
    result = cr.grad_check(
        lambda z, w, b: (F.linear(z, w, b) ** 2).sum(),
        [rng.normal(size=shape), rng.normal(size=(3, 4)), rng.normal(size=3)],
    )
    assert result, result.report()


def test_fused_op_equals_composed_ops(rng):
    z_val, w_val, b_val = rng.normal(size=(6, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)
    c = rng.normal(size=(6, 3))

    def run(fused: bool):
        z = cr.Tensor(z_val, requires_grad=True)
        w = cr.Tensor(w_val, requires_grad=True)
        b = cr.Tensor(b_val, requires_grad=True)
        a = F.linear(z, w, b) if fused else z @ w.T + b
        (a * c).sum().backward()
        assert a.op == ("linear" if fused else "+")
        return a.data, z.grad, w.grad, b.grad

    for fused, composed in zip(run(True), run(False), strict=True):
        np.testing.assert_allclose(fused, composed, rtol=1e-12, atol=1e-12)


def test_unneeded_gradients_are_skipped():
    layer = Dense(3, 2, rng=0)
    layer.bias.requires_grad = False
    x = cr.Tensor(np.ones((4, 3), np.float32))  # data: no gradient wanted
    layer(x).sum().backward()
    assert x.grad is None and layer.bias.grad is None
    np.testing.assert_allclose(layer.weight.grad, np.full((2, 3), 4.0))
    assert layer.weight.grad.dtype == np.float32
    with cr.no_grad():
        assert not layer(x).requires_grad


def test_autograd_equals_the_lectures_delta_recursion(rng):
    """A 3-layer sigmoid network with squared error, checked layer by layer.

    Per sample n (rows), with E = (1/N) Σₙ ½‖ŷₙ − yₙ‖²:
      δ⁽³⁾ = (ŷ − y) ∘ σ′(a⁽³⁾) / N,  δ⁽ᵏ⁾ = (δ⁽ᵏ⁺¹⁾ W⁽ᵏ⁺¹⁾) ∘ σ′(a⁽ᵏ⁾)   (Wᵀδ, in rows),
      ∂E/∂W⁽ᵏ⁾ = Σₙ δₙ⁽ᵏ⁾ zₙ⁽ᵏ⁻¹⁾ᵀ,  ∂E/∂b⁽ᵏ⁾ = Σₙ δₙ⁽ᵏ⁾.
    """
    sizes = [3, 5, 4, 2]
    layers = [
        Dense(i, o, rng=k, dtype=np.float64) for k, (i, o) in enumerate(itertools.pairwise(sizes))
    ]
    for layer in layers:
        layer.bias.data[:] = rng.normal(size=layer.out_features)
    n = 7
    x = rng.normal(size=(n, 3))
    y = rng.uniform(size=(n, 2))

    # Forward with autograd, keeping every a⁽ᵏ⁾ and z⁽ᵏ⁾ as graph nodes.
    zs, activations = [cr.Tensor(x)], []
    for layer in layers:
        a = layer(zs[-1])
        activations.append(a)
        zs.append(a.sigmoid())
    E = SquaredError()(zs[-1], y)
    E.backward(retain_graph=True)  # keep the intermediate values' .grad

    # The same by hand, from the lecture's closed form.
    def sigma_prime(a):
        s = 1 / (1 + np.exp(-a))
        return s * (1 - s)

    a_vals = [a.data for a in activations]
    z_vals = [z.data for z in zs]
    delta = (z_vals[-1] - y) * sigma_prime(a_vals[-1]) / n
    for k in reversed(range(len(layers))):
        np.testing.assert_allclose(activations[k].grad, delta, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layers[k].weight.grad, delta.T @ z_vals[k], rtol=1e-10)
        np.testing.assert_allclose(layers[k].bias.grad, delta.sum(axis=0), rtol=1e-10)
        if k:
            delta = (delta @ layers[k].weight.data) * sigma_prime(a_vals[k - 1])


def test_sequential_network_passes_grad_check(grads_match, rng):
    model = Sequential(
        Dense(3, 4, rng=0, dtype=np.float64),
        Sigmoid(),
        Dense(4, 2, rng=1, dtype=np.float64),
    )
    x = rng.normal(size=(5, 3))
    y = rng.normal(size=(5, 2))
    grads_match(lambda: SquaredError()(model(x), y), list(model.parameters()))
