"""Networks: `Module`, layers, activations, losses, initializers and weight penalties.

The lecture's K-layer network z⁽ᵏ⁾ = σ(W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾) is written

    model = cr.nn.Sequential(cr.nn.Dense(2, 2), cr.nn.Sigmoid(), cr.nn.Dense(2, 1), cr.nn.Sigmoid())
    E = cr.nn.SquaredError()(model(x), y)
    E.backward()    # every parameter's .grad now holds ∂E/∂θ
"""

from chainrule.fast.flat import FlatBuffer, flatten_parameters
from chainrule.nn import functional, init
from chainrule.nn import module as _module
from chainrule.nn.activations import (
    ACTIVATIONS,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
)
from chainrule.nn.conv import Conv1d, Conv2d
from chainrule.nn.dense import Dense, Linear
from chainrule.nn.dropout import Dropout
from chainrule.nn.init import INITIALIZERS, get_initializer
from chainrule.nn.losses import (
    LOSSES,
    BinaryCrossEntropy,
    CrossEntropyLoss,
    MSELoss,
    SquaredError,
    get_loss,
)
from chainrule.nn.module import IncompatibleKeys, Module
from chainrule.nn.normalization import BatchNorm, BatchNorm1d, BatchNorm2d
from chainrule.nn.parameter import Parameter
from chainrule.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Flatten,
    MaxPool1d,
    MaxPool2d,
    Unflatten,
)
from chainrule.nn.regularizers import l1_penalty, l2_penalty, penalized_weights
from chainrule.nn.sequential import Sequential

# Pickles made before `Sequential` had a module of its own name it as
# `chainrule.nn.module.Sequential`; importing that module runs this package first, so the old
# name resolves here (module.py itself stays free of the import, and of an import circle).
_module.Sequential = Sequential  # type: ignore[attr-defined]

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "BinaryCrossEntropy",
    "Conv1d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dense",
    "Dropout",
    "FlatBuffer",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "MaxPool1d",
    "MaxPool2d",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "SquaredError",
    "Tanh",
    "Unflatten",
    "flatten_parameters",
    "functional",
    "get_activation",
    "get_initializer",
    "get_loss",
    "init",
    "l1_penalty",
    "l2_penalty",
    "penalized_weights",
]
