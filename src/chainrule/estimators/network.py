"""From a checked `Config` to the library's objects: the network, its loss and its optimizer."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd import Tensor
from chainrule.estimators.params import Config
from chainrule.fast.flat import flatten_parameters
from chainrule.nn import (
    BatchNorm,
    Dense,
    Dropout,
    Module,
    Sequential,
    get_activation,
    get_loss,
    l1_penalty,
    l2_penalty,
    penalized_weights,
)
from chainrule.optim import Optimizer
from chainrule.optim import make_optimizer as _make_optimizer

Array = np.ndarray


def build_network(
    config: Config, n_in: int, n_out: int, dtype: Any, rng: np.random.Generator
) -> Sequential:
    """The multilayer perceptron n_in → hidden_layer_sizes → n_out.

    Each hidden layer is ``Dense`` (a = W z + b), optionally ``BatchNorm`` of a, then σ, then
    optionally ``Dropout``; the output layer is a bare ``Dense`` whose a⁽ᴷ⁾ are the logits (or
    the regression outputs). Hidden weights use `config.init`; the output layer uses Xavier,
    whose variance suits a unit without a ReLU, unless the user asked for "zeros" or "normal"
    everywhere (the lecture's demonstrations of initialization).
    """
    layers: list[Module] = []
    width = n_in
    for units in config.hidden_layer_sizes:
        layers.append(Dense(width, units, init=config.init, rng=rng, dtype=dtype))
        if config.batch_norm:
            layers.append(BatchNorm(units, dtype=dtype))
        layers.append(get_activation(config.activation))
        if config.dropout > 0:
            layers.append(Dropout(config.dropout, rng=rng))
        width = units
    output_init = config.init if config.init in ("zeros", "normal") else "xavier"
    layers.append(Dense(width, n_out, init=output_init, rng=rng, dtype=dtype))
    return Sequential(*layers)


def output_layer(model: Sequential) -> Dense:
    """The last `Dense` layer of a network made by `build_network`."""
    return model[len(model) - 1]


def set_output_bias(model: Sequential, bias: Array) -> None:
    """Start the output layer's b at `bias` (in place, in the layer's dtype)."""
    b = output_layer(model).bias
    b.data[...] = np.asarray(bias, dtype=b.data.dtype).reshape(b.data.shape)


def make_optimizer(config: Config, model: Module) -> Optimizer:
    """The optimizer named in `config` over the model's parameters.

    Weight decay of AdamW (its default λ = 0.01) applies to the weights only, like the l1/l2
    penalties: biases and batch-norm parameters are left alone.
    """
    # Parameters are laid out in one flat buffer, each optimizer group's consecutively, so the
    # optimizer runs its rule once per group and step instead of once per array.
    if config.optimizer != "adamw":
        params = list(model.parameters())
        flatten_parameters(params)
        return _make_optimizer(config.optimizer, params, config.learning_rate)
    decayed, other = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            (decayed if name in module.penalized_parameters else other).append(p)
    flatten_parameters([*decayed, *other])
    groups = [{"params": decayed}]
    if other:
        groups.append({"params": other, "weight_decay": 0.0})
    return _make_optimizer("adamw", groups, config.learning_rate)


class EstimatorLoss:
    """The objective of one minibatch: the data loss plus the l1/l2 penalties.

    With sample weights sₙ (scaled to mean 1 over the training set), the data term is
    (1/B) Σₙ sₙ Eₙ over the B samples of the batch, an unbiased estimate of the weighted
    training loss (1/N) Σₙ sₙ Eₙ; without weights it is the plain mean.
    """

    def __init__(self, name: str, model: Module, l1: float, l2: float) -> None:
        self.data_loss = get_loss(name)
        self.model = model
        self.l1 = l1
        self.l2 = l2
        self._weights = penalized_weights(model)  # found once, not at every step

    def __call__(self, prediction: Tensor, target: Any, sample_weight: Any = None) -> Tensor:
        if sample_weight is None:
            E = self.data_loss(prediction, target)
        else:
            w = np.asarray(sample_weight)
            # The loss normalizes by Σ sₙ over the batch; rescale so it divides by B instead.
            E = self.data_loss(prediction, target, w) * float(w.sum() / len(w))
        for penalty, lam, weights in self.terms()[1]:
            E = E + penalty(weights, lam)
        return E

    def terms(self) -> tuple[Module, list[tuple[Any, float, list[Any]]]]:
        """The parts of the objective without sample weights: the data loss, and each penalty
        as (function, λ, weights) in the order they are added. The training loop reads them to
        run the step without a graph (`chainrule.training.fused`), with the same numbers."""
        penalties = [(l1_penalty, self.l1, self._weights)] if self.l1 else []
        if self.l2:
            penalties.append((l2_penalty, self.l2, self._weights))
        return self.data_loss, penalties


def make_loss(name: str, model: Module, config: Config) -> EstimatorLoss:
    """The training objective for loss `name` with the penalties of `config`."""
    return EstimatorLoss(name, model, config.l1, config.l2)
