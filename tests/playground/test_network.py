"""The network built from a config, and its layer-by-layer trace with δ probes."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.playground.config import Config
from chainrule.playground.network import build_network, layers_of, trace


def test_layers_follow_the_config() -> None:
    c = Config(features=("x1", "x2", "x1x2"), hidden=(5, 3), batch_norm=True, dropout=0.1)
    model = build_network(c, np.random.default_rng(0))
    types = [type(m).__name__ for m in model]
    assert types == ["Dense", "BatchNorm", "Tanh", "Dropout"] * 2 + ["Dense"]
    assert model[0].weight.shape == (5, 3) and model[-1].weight.shape == (1, 3)
    assert [(layer.dense, layer.post) for layer in layers_of(model)] == [(0, 2), (4, 6), (8, 8)]


def test_no_hidden_layer_is_a_linear_model() -> None:
    model = build_network(Config(hidden=()), np.random.default_rng(0))
    assert len(model) == 1 and isinstance(model[0], nn.Dense)


@pytest.mark.parametrize("init", ["random", "zeros", "xavier", "he"])
def test_initializations(init: str) -> None:
    model = build_network(Config(init=init, hidden=(8, 8)), np.random.default_rng(1))
    w = model[2].weight.data
    if init == "zeros":
        assert not w.any()
    elif init == "random":
        assert np.abs(w).max() <= 0.5 and w.std() > 0.2  # U(-0.5, 0.5): std ≈ 0.29
    else:
        assert w.std() > 0 and np.abs(w).max() < 3


def test_trace_matches_the_model_and_keeps_every_layer() -> None:
    model = build_network(Config(hidden=(4, 2)), np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(5, 2)).astype(np.float32)
    t = trace(model, x)
    np.testing.assert_allclose(t.output.data, model(cr.Tensor(x)).data, rtol=1e-6)
    assert [a.shape for a in t.pre] == [(5, 4), (5, 2), (5, 1)]
    np.testing.assert_allclose(t.post[0].data, np.tanh(t.pre[0].data), rtol=1e-5, atol=1e-7)


def test_probe_gradients_are_delta_by_finite_differences() -> None:
    """δ⁽ᵏ⁾ = ∂E/∂a⁽ᵏ⁾ from the probes agrees with central differences of E in a."""
    c = Config(hidden=(3, 2), activation="sigmoid")
    model = build_network(c, np.random.default_rng(2))
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    x = np.random.default_rng(3).normal(size=(4, 2))
    y = np.array([[1.0], [0.0], [1.0], [1.0]])
    loss = nn.BinaryCrossEntropy()
    t = trace(model, x, probe=True)
    loss(t.output, y).backward()
    eps = 1e-6
    for k, probe in enumerate(t.pre_probes):
        numeric = np.zeros(probe.shape)
        for idx in np.ndindex(*probe.shape):

            def e_at(shift: float, k: int = k, idx: tuple = idx) -> float:
                # E with a⁽ᵏ⁾ shifted at one entry
                h = cr.Tensor(x)
                for i, module in enumerate(model):
                    h = module(h)
                    if i == layers_of(model)[k].dense:
                        bump = np.zeros(h.shape)
                        bump[idx] = shift
                        h = h + cr.Tensor(bump)
                return float(loss(h, y).item())

            numeric[idx] = (e_at(eps) - e_at(-eps)) / (2 * eps)
        np.testing.assert_allclose(probe.grad, numeric, rtol=1e-4, atol=1e-9)
    # Σₙ δ of a layer is its bias gradient
    for layer, probe in zip(layers_of(model), t.pre_probes, strict=True):
        np.testing.assert_allclose(probe.grad.sum(axis=0), model[layer.dense].bias.grad, rtol=1e-9)
