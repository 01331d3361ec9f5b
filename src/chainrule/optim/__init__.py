"""Optimizers: gradient descent w ← w − η ∂E/∂w and its refinements, plus learning-rate schedules.

The update rules are PyTorch's for the same names and arguments, so runs can be compared with
``torch.optim`` step by step. Each optimizer's docstring gives its rule in the lecture's notation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from chainrule.optim import schedules
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.optimizer import Optimizer, ParamsLike
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

# Optimizers by name, for the estimators and the command line. Each is called as
# factory(params, lr=..., weight_decay=...).
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": SGD,
    "momentum": partial(SGD, momentum=0.9),
    "nesterov": partial(SGD, momentum=0.9, nesterov=True),
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def make_optimizer(
    name: str, params: ParamsLike, lr: float, weight_decay: float | None = None
) -> Optimizer:
    """The optimizer called `name` (a key of `OPTIMIZERS`) for `params`.

    Parameters
    ----------
    name : str
        ``"sgd"``, ``"momentum"`` (SGD, μ = 0.9), ``"nesterov"`` (SGD, Nesterov, μ = 0.9),
        ``"rmsprop"``, ``"adam"`` or ``"adamw"``.
    params : iterable of Tensor or of dict
        The parameters (or parameter groups).
    lr : float
        η, the learning rate.
    weight_decay : float, optional
        λ; None keeps the optimizer's default (0, or 0.01 for AdamW).
    """
    factory = OPTIMIZERS.get(name) if isinstance(name, str) else None
    if factory is None:
        raise ValueError(f"unknown optimizer {name!r}; valid: {', '.join(OPTIMIZERS)}")
    kwargs: dict[str, Any] = {} if weight_decay is None else {"weight_decay": weight_decay}
    return factory(params, lr=lr, **kwargs)


__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "make_optimizer",
    "schedules",
]
