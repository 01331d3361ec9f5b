"""Adam and AdamW: per-weight step sizes from bias-corrected running moments of the gradient."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from chainrule.autograd.tensor import Array
from chainrule.fast.updates import adam_update_
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsLike,
    check_number,
    hyperparameters,
)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization",
    arXiv:1412.6980), as PyTorch's ``torch.optim.Adam``.

    With g = ∂E/∂w, t the step number (from 1), m = v = 0 at the start, element-wise:

    .. math::

        g &← g + λ w                         && \text{(L2 weight decay, if λ > 0)} \\
        m &← β_1 m + (1 − β_1) g             && \text{(running mean of } g) \\
        v &← β_2 v + (1 − β_2) g²            && \text{(running mean of } g²) \\
        \hat m &= m / (1 − β_1^t),\quad \hat v = v / (1 − β_2^t)  && \text{(bias correction)} \\
        w &← w − η\, \hat m / (\sqrt{\hat v} + ε)

    with η = `lr`, (β₁, β₂) = `betas`, ε = `eps`, λ = `weight_decay`. β₁ plays the role of
    momentum μ, in the averaging form m ← β₁m + (1 − β₁)g rather than PyTorch SGD's v ← μv + g.
    With ``amsgrad=True`` the denominator uses the largest v̂ so far (Reddi, Kale & Kumar, 2018,
    "On the Convergence of Adam and Beyond"): v_max ← max(v_max, v), v̂ = v_max / (1 − β₂^t).

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters or parameter groups (see `Optimizer`).
    lr : float
        η ≥ 0.
    betas : (float, float)
        β₁, β₂, each in [0, 1).
    eps : float
        ε ≥ 0, added to √v̂.
    weight_decay : float
        λ ≥ 0: adds λw to the gradient, so it is rescaled with it (see `AdamW` for the
        decoupled form).
    amsgrad : bool
        Use the AMSGrad variant.
    """

    state_names: ClassVar[frozenset[str]] = frozenset(
        {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    )
    #: AdamW decays the weights directly instead of adding λw to the gradient.
    decoupled_weight_decay: ClassVar[bool] = False

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        betas = group["betas"]
        if isinstance(betas, str) or not isinstance(betas, Sequence) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        group["betas"] = tuple(
            check_number(f"beta{i + 1}", b, low=0.0, high=1.0, high_open=True)
            for i, b in enumerate(betas)
        )

    def _init_state(self, w: Array, group: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {
            "step": 0,
            "exp_avg": np.zeros_like(w),
            "exp_avg_sq": np.zeros_like(w),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(w)
        return state

    def _update(
        self,
        w: Array,
        g: Array,
        state: dict[str, Any],
        group: dict[str, Any],
        keep: Array | None = None,
    ) -> bool | None:
        """`adam_rule`, in place (the fast path `chainrule.fast.updates.adam_update_`)."""
        return adam_update_(w, g, state, group, self._scratch, self.decoupled_weight_decay, keep)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019, "Decoupled Weight
    Decay Regularization", arXiv:1711.05101), as PyTorch's ``torch.optim.AdamW``.

    Each step first shrinks the weights, w ← w(1 − ηλ), then takes the plain Adam step
    w ← w − η m̂ / (√v̂ + ε) (see `Adam`; the gradient itself is not changed). Unlike L2 decay
    through the gradient, the decay is not divided by √v̂, so every weight decays at the same
    rate ηλ. Note that λ is multiplied by η (PyTorch's convention; the paper schedules them
    separately). Default λ = `weight_decay` = 0.01.
    """

    decoupled_weight_decay: ClassVar[bool] = True

    # Adam's signature again, as torch.optim.AdamW's: only the default λ differs (0.01), and
    # help(), inspect.signature and tab completion show the defaults from the signature.
    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


def adam_rule(
    w: Array,
    g: Array,
    state: dict[str, Any],
    group: dict[str, Any],
    decoupled: bool = False,
) -> tuple[Array, dict[str, Any]]:
    """One Adam step as the lecture writes it: the new weights and state (inputs unchanged).

    The reference for `Adam`'s in-place update (`chainrule.fast.updates.adam_update_`), which
    the tests compare with it. ``decoupled=True`` is AdamW's weight decay.
    """
    lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    t = state["step"] + 1
    if wd != 0 and decoupled:
        w = w * (1 - lr * wd)  # AdamW: shrink the weights, leave g alone
    elif wd != 0:
        g = g + wd * w  # L2 weight decay through the gradient
    m = beta1 * state["exp_avg"] + (1 - beta1) * g  # running mean of g
    v = beta2 * state["exp_avg_sq"] + (1 - beta2) * g**2  # running mean of g²
    new_state: dict[str, Any] = {"step": t, "exp_avg": m, "exp_avg_sq": v}
    if group["amsgrad"]:
        v = np.maximum(state.get("max_exp_avg_sq", np.zeros_like(v)), v)  # largest v so far
        new_state["max_exp_avg_sq"] = v
    m_hat = m / (1 - beta1**t)  # bias correction: m and v start at 0
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), new_state
