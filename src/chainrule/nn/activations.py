"""Activation modules z = σ(a) and the `ACTIVATIONS` table of names.

Each module wraps the function of the same name in `chainrule.nn.functional`, whose docstring
gives σ′. In backpropagation the activation turns ∂E/∂z into the lecture's δ = ∂E/∂z ∘ σ′(a).
"""

from __future__ import annotations

from typing import Any, ClassVar

from chainrule.autograd.tensor import Tensor
from chainrule.nn import functional as F
from chainrule.nn.module import Module

__all__ = [
    "ACTIVATIONS",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "get_activation",
]


class Sigmoid(Module):
    """σ(a) = 1 / (1 + e⁻ᵃ), the lecture's default unit.  σ′(a) = σ(a)(1 − σ(a))."""

    #: `chainrule.fast.dense_chain` may run this activation inside a fused chain.
    chain_kind: ClassVar[str] = "sigmoid"

    def forward(self, a: Any) -> Tensor:
        return F.sigmoid(a)


class Tanh(Module):
    """tanh(a), zero-centred, range (−1, 1).  tanh′(a) = 1 − tanh²(a)."""

    #: `chainrule.fast.dense_chain` may run this activation inside a fused chain.
    chain_kind: ClassVar[str] = "tanh"

    def forward(self, a: Any) -> Tensor:
        return F.tanh(a)


class ReLU(Module):
    """max(a, 0): fast, sparse, no vanishing gradient for a > 0.  Derivative [a > 0]."""

    #: `chainrule.fast.dense_chain` may run this activation inside a fused chain.
    chain_kind: ClassVar[str] = "relu"

    def forward(self, a: Any) -> Tensor:
        return F.relu(a)


class LeakyReLU(Module):
    """a for a > 0, else s·a with s = `negative_slope`.  Derivative 1 or s."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, a: Any) -> Tensor:
        return F.leaky_relu(a, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Identity(Module):
    """z = a (a linear unit, e.g. a regression output).  Derivative 1."""

    #: `chainrule.fast.dense_chain` may run this activation inside a fused chain.
    chain_kind: ClassVar[str] = ""

    def forward(self, a: Any) -> Tensor:
        return F.identity(a)


class Softmax(Module):
    """softmax(a)ᵢ = e^(aᵢ) / Σⱼ e^(aⱼ) along `axis`: class probabilities.

    For training, feed logits to `CrossEntropyLoss` instead, which fuses the softmax.
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = int(axis)

    def forward(self, a: Any) -> Tensor:
        return F.softmax(a, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


# Hidden-layer activations by name, for estimators and the command line. "logistic" is
# scikit-learn's name for the sigmoid, "linear" Keras's for the identity.
ACTIVATIONS: dict[str, type[Module]] = {
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
    "linear": Identity,
}


def get_activation(name: str | Module) -> Module:
    """A new activation module by name in `ACTIVATIONS`, or `name` itself if it is a Module."""
    if isinstance(name, Module):
        return name
    if isinstance(name, str) and name.lower() in ACTIVATIONS:
        return ACTIVATIONS[name.lower()]()
    raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(ACTIVATIONS)}")
