"""RMSprop: gradient descent with each weight's step divided by its recent gradient size."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from chainrule.autograd.tensor import Array
from chainrule.fast.updates import rmsprop_update_
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsLike,
    check_number,
    hyperparameters,
)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, Srivastava & Swersky, 2012, Coursera "Neural Networks for Machine
    Learning", lecture 6e), as PyTorch's ``torch.optim.RMSprop``.

    With g = ∂E/∂w, squares and division element-wise, and all buffers starting at 0:

    .. math::

        g &← g + λ w                          && \text{(weight decay, if λ > 0)} \\
        s &← α s + (1 − α) g²                 && \text{(running mean of } g²) \\
        \bar g &← α \bar g + (1 − α) g        && \text{(centered only)} \\
        r &= \sqrt{s − \bar g^2} + ε \text{ (centered)} \quad\text{or}\quad \sqrt{s} + ε \\
        v &← μ v + g / r,\quad w ← w − η v     && \text{(if μ > 0)} \\
        w &← w − η\, g / r                     && \text{(otherwise)}

    with η = `lr`, α = `alpha`, ε = `eps` (added *outside* the square root, as in PyTorch; Keras
    and TensorFlow differ here), μ = `momentum`, λ = `weight_decay`. The momentum buffer follows
    PyTorch's convention, v ← μv + (scaled gradient) with η applied at the end.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float
        η ≥ 0.
    alpha : float
        α in [0, 1): decay of the running mean of g².
    eps : float
        ε ≥ 0, keeps the division finite.
    momentum : float
        μ ≥ 0.
    weight_decay : float
        λ ≥ 0: adds λw to the gradient (L2 penalty).
    centered : bool
        Divide by an estimate of the gradient's standard deviation, √(s − ḡ²), instead of its
        root mean square (Graves, 2013, arXiv:1308.0850).
    """

    state_names: ClassVar[frozenset[str]] = frozenset(
        {"step", "square_avg", "momentum_buffer", "grad_avg"}
    )

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        group["alpha"] = check_number("alpha", group["alpha"], low=0.0, high=1.0, high_open=True)

    def _init_state(self, w: Array, group: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {"step": 0, "square_avg": np.zeros_like(w)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(w)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(w)
        return state

    def _update(
        self,
        w: Array,
        g: Array,
        state: dict[str, Any],
        group: dict[str, Any],
        keep: Array | None = None,
    ) -> bool | None:
        """`rmsprop_rule`, in place (the fast path `chainrule.fast.updates.rmsprop_update_`)."""
        return rmsprop_update_(w, g, state, group, self._scratch, keep=keep)


def rmsprop_rule(
    w: Array, g: Array, state: dict[str, Any], group: dict[str, Any]
) -> tuple[Array, dict[str, Any]]:
    """One RMSprop step as the lecture writes it: the new weights and state (inputs unchanged).

    The reference for `RMSprop`'s in-place update (`chainrule.fast.updates.rmsprop_update_`),
    which the tests compare with it.
    """
    lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
    wd, mu = group["weight_decay"], group["momentum"]
    if wd != 0:
        g = g + wd * w  # L2 weight decay
    s = alpha * state["square_avg"] + (1 - alpha) * g**2  # running mean of g²
    new_state: dict[str, Any] = {"step": state["step"] + 1, "square_avg": s}
    if group["centered"]:
        g_bar = alpha * state.get("grad_avg", np.zeros_like(g)) + (1 - alpha) * g  # mean of g
        new_state["grad_avg"] = g_bar
        r = np.sqrt(np.maximum(s - g_bar**2, 0)) + eps  # √(variance of g) + ε
    else:
        r = np.sqrt(s) + eps
    if mu > 0:
        v = mu * state.get("momentum_buffer", np.zeros_like(g)) + g / r
        new_state["momentum_buffer"] = v
        return w - lr * v, new_state
    return w - lr * g / r, new_state
