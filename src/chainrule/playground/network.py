"""Build the playground's network from a `Config` and run it layer by layer.

The network is a plain `chainrule.nn.Sequential`: for each hidden layer
``Dense → [BatchNorm] → activation → [Dropout]``, then one output ``Dense`` whose output is a
logit (classification, trained with binary cross-entropy) or the predicted value (regression,
trained with the squared error). `trace` runs the same modules one at a time to keep each
layer's pre-activation a⁽ᵏ⁾ and output z⁽ᵏ⁾, which the page draws; with ``probe=True`` it adds
a zero "probe" tensor to every a⁽ᵏ⁾, whose gradient after ``backward()`` is the lecture's
δ⁽ᵏ⁾ = ∂E/∂a⁽ᵏ⁾.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from chainrule import nn
from chainrule.autograd import Tensor
from chainrule.playground.config import Config

__all__ = ["INIT_NAMES", "Layer", "Trace", "build_network", "layers_of", "trace"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}


# The page's names -> `Dense(init=...)`. "random" is TensorFlow Playground's wᵢⱼ ~ U(−0.5, 0.5),
# whatever the layer size.
INIT_NAMES: dict[str, Any] = {
    "random": partial(nn.init.uniform, low=-0.5, high=0.5),
    "zeros": "zeros",
    "xavier": "xavier_uniform",
    "he": "he_normal",
}


@dataclass(frozen=True)
class Layer:
    """Where layer k lives in the `Sequential`: its Dense, and the module giving z⁽ᵏ⁾."""

    dense: int  # index of the Dense; its output is a⁽ᵏ⁾ = W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾
    post: int  # index of the module whose output is z⁽ᵏ⁾ (the activation; output layer: = dense)


def build_network(config: Config, rng: np.random.Generator) -> nn.Sequential:
    """The network of `config`: len(features) inputs, the hidden layers, one output."""
    init = INIT_NAMES[config.init]
    modules: list[nn.Module] = []
    width = len(config.features)
    for size in config.hidden:
        modules.append(nn.Dense(width, size, init=init, rng=rng))
        if config.batch_norm:
            modules.append(nn.BatchNorm(size))
        modules.append(_ACTIVATIONS[config.activation]())
        if config.dropout > 0:
            modules.append(nn.Dropout(config.dropout, rng=rng))
        width = size
    modules.append(nn.Dense(width, 1, init=init, rng=rng))
    return nn.Sequential(*modules)


def layers_of(model: nn.Sequential) -> list[Layer]:
    """The `Layer` records of a network made by `build_network`, input side first."""
    found: list[Layer] = []
    modules = list(model)
    for i, module in enumerate(modules):
        if not isinstance(module, nn.Dense):
            continue
        post = i
        if i + 1 < len(modules):  # a hidden layer: z is the activation's output
            post = i + 2 if isinstance(modules[i + 1], nn.BatchNorm) else i + 1
        found.append(Layer(dense=i, post=post))
    return found


@dataclass
class Trace:
    """One forward pass kept layer by layer: a⁽ᵏ⁾, z⁽ᵏ⁾ and the probes giving ∂E/∂a, ∂E/∂z."""

    output: Tensor
    pre: list[Tensor]
    post: list[Tensor]
    pre_probes: list[Tensor]
    post_probes: list[Tensor]


def _probe(h: Tensor) -> tuple[Tensor, Tensor]:
    # ∂E/∂p = ∂E/∂h, since h + 0 = h: the zero probe's gradient is the gradient at h.
    p = Tensor(np.zeros(h.shape, dtype=h.data.dtype), requires_grad=True)
    return h + p, p


def trace(model: nn.Sequential, x: Any, *, probe: bool = False) -> Trace:
    """Run `model` on `x` one module at a time, keeping every layer's a and z.

    With `probe`, ``pre_probes[k].grad`` is δ⁽ᵏ⁾ = ∂E/∂a⁽ᵏ⁾ and ``post_probes[k].grad`` is
    ∂E/∂z⁽ᵏ⁾ after ``E.backward()``.
    """
    layers = layers_of(model)
    pre_at = {layer.dense: k for k, layer in enumerate(layers)}
    post_at = {layer.post: k for k, layer in enumerate(layers)}
    n = len(layers)
    t = Trace(None, [None] * n, [None] * n, [None] * n, [None] * n)  # type: ignore[arg-type]
    h = x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.float32))
    for i, module in enumerate(model):
        h = module(h)
        p = None
        if probe and (i in pre_at or i in post_at):
            h, p = _probe(h)
        if i in pre_at:
            t.pre[pre_at[i]], t.pre_probes[pre_at[i]] = h, p  # type: ignore[call-overload]
        if i in post_at:
            t.post[post_at[i]], t.post_probes[post_at[i]] = h, p  # type: ignore[call-overload]
    t.output = h
    return t
