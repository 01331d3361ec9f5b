"""Stochastic gradient descent, with momentum, Nesterov momentum and L2 weight decay."""

from __future__ import annotations

from typing import Any, ClassVar

from chainrule.autograd.tensor import Array
from chainrule.fast.updates import sgd_update_
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsLike,
    check_number,
    hyperparameters,
)


class SGD(Optimizer):
    r"""Gradient descent w ← w − η g, optionally with momentum (PyTorch's ``torch.optim.SGD``).

    With g = ∂E/∂w the gradient of the minibatch (or batch, or single sample: the caller decides
    the regime by what it backpropagates), each step computes

    .. math::

        g &← g + λ w                          && \text{(weight decay, if λ > 0)} \\
        v &← μ v + (1 − τ) g,\quad v_1 = g     && \text{(momentum, if μ > 0)} \\
        g &← g + μ v \text{ (Nesterov)}\quad\text{or}\quad g ← v \\
        w &← w − η g

    with η = `lr`, μ = `momentum`, τ = `dampening`, λ = `weight_decay`.

    Momentum convention: this is PyTorch's form, v ← μv + g, w ← w − ηv, in which the buffer v
    collects gradients and η multiplies it at the end. Sutskever et al. (2013) write
    v ← μv − ηg, w ← w + v, with η inside the buffer; the two agree while η is constant but
    differ when a schedule changes η. Nesterov momentum (Nesterov, 1983; in this form Sutskever
    et al., 2013, "On the importance of initialization and momentum in deep learning") steps
    with g + μv, the gradient plus the look-ahead of the next momentum step.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float
        η, the learning rate (≥ 0).
    momentum : float
        μ ≥ 0; 0 gives plain gradient descent.
    nesterov : bool
        Use Nesterov momentum (needs μ > 0 and no dampening).
    weight_decay : float
        λ ≥ 0: adds λw to the gradient, i.e. an L2 penalty λ/2 ‖w‖² on the loss.
    dampening : float
        τ in [0, 1]: scales the gradient entering the momentum buffer by 1 − τ.
    """

    state_names: ClassVar[frozenset[str]] = frozenset({"momentum_buffer"})

    def __init__(
        self,
        params: ParamsLike,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        group["dampening"] = check_number("dampening", group["dampening"], low=0.0, high=1.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(
        self,
        w: Array,
        g: Array,
        state: dict[str, Any],
        group: dict[str, Any],
        keep: Array | None = None,
    ) -> bool | None:
        """`sgd_rule`, in place (the fast path `chainrule.fast.updates.sgd_update_`)."""
        return sgd_update_(w, g, state, group, self._scratch, keep=keep)


def sgd_rule(
    w: Array, g: Array, state: dict[str, Any], group: dict[str, Any]
) -> tuple[Array, dict[str, Any]]:
    """One SGD step as the lecture writes it: the new weights and state (inputs unchanged).

    The reference for `SGD`'s in-place update (`chainrule.fast.updates.sgd_update_`), which the
    tests compare with it; `state` may hold ``"momentum_buffer"`` (v) from the step before.
    """
    lr, mu, tau, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
    if wd != 0:
        g = g + wd * w  # L2 weight decay
    new_state: dict[str, Any] = {}
    if mu != 0:
        v = state.get("momentum_buffer")
        v = g.copy() if v is None else mu * v + (1 - tau) * g  # v₁ = g, then v ← μv + (1 − τ)g
        new_state["momentum_buffer"] = v
        g = g + mu * v if group["nesterov"] else v
    return w - lr * g, new_state
