"""The optimizers' update rules, in place: the fast path beside each plain rule.

Fast path for: the plain rules `chainrule.optim.sgd.sgd_rule`, `chainrule.optim.adam.adam_rule`
and `chainrule.optim.rmsprop.rmsprop_rule`, which write each step as the lecture does (m, v,
m̂, v̂, ε in sight) and return new arrays. These functions give the same numbers (to rounding:
Adam folds the bias corrections into one factor) while updating ``w`` and the state arrays in
place with NumPy's ``out=``, so a step allocates nothing after the first, and the weights may
be views into a flat buffer (`chainrule.fast.groups` runs them once per parameter group).
``tests/fast/test_updates.py`` steps both on random inputs and compares.

With numba installed (the ``[fast]`` extra), each step runs as one compiled pass over the
arrays (`chainrule.fast.kernels`) instead of a dozen NumPy calls; the NumPy code below is
what that pass must equal, and what runs without numba.

Each function takes the weights `w` (updated in place), the gradient `g` (only read: the
engine may share it), the parameter's state dict (updated in place), the hyperparameters of
its group, and ``scratch(w, slot)``, which hands out a reusable array shaped like `w`.
Optionally `keep`, an array laid out as `w` (the divergence guard's copy,
`chainrule.fast.backup`): the weights before the step are written into it, by the compiled
pass itself, which also checks the new weights (the result: True if all are finite, False if
not), or by a copy before the NumPy code (the result: None, not checked).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.autograd.tensor import Array
from chainrule.fast import kernels
from chainrule.fast.flat import memory_order

__all__ = [
    "FLUSH_EVERY",
    "Workspace",
    "adam_update_",
    "flush_subnormals",
    "rmsprop_update_",
    "sgd_update_",
    "state_buffer",
]

Scratch = Callable[[Array, int], Array]


class Workspace:
    """``scratch(w, slot)``: a reusable array shaped like `w`, in `w`'s memory layout.

    One array per dtype and slot, as large as the largest parameter reserved, shared by all
    parameters (an optimizer's steps run one after another), so updates allocate nothing.
    """

    def __init__(self) -> None:
        self._arrays: dict[tuple[np.dtype[Any], int], Array] = {}
        self._size = 0

    def reserve(self, size: int) -> None:
        """Make later arrays at least `size` elements long."""
        self._size = max(self._size, size)

    def __call__(self, w: Array, slot: int) -> Array:
        key = (w.dtype, slot)
        buf = self._arrays.get(key)
        if buf is None or buf.size < w.size:
            buf = self._arrays[key] = np.empty(max(self._size, w.size), dtype=w.dtype)
        return buf[: w.size].reshape(w.shape, order=memory_order(w))


# Every this many steps, `flush_subnormals` clears the running averages (see there).
FLUSH_EVERY = 32


def flush_subnormals(a: Array) -> None:
    """Set the subnormal numbers of `a` (0 < |x| < the smallest normal number) to 0, in place.

    A running average of a gradient that has become exactly 0 (a dead ReLU unit) or tiny
    (a confident softmax) decays geometrically, m ← β m, through the subnormal range before it
    reaches 0. x86 CPUs compute on subnormal numbers about a hundred times more slowly, and a
    few percent of them make every pass of the update over the whole buffer slower: late in a
    long training the steps were 10-15% slower. Values below 1.2e-38 (float32) carry no
    weight in an update that divides by √v + ε, so they are set to 0, as GPUs and
    ``torch.set_flush_denormal(True)`` do in hardware. Optimizers call this every
    `FLUSH_EVERY` steps, which costs one compiled pass over the buffer each time (three
    NumPy passes without numba).
    """
    if not kernels.flush_subnormals_(a):
        np.copyto(a, 0, where=np.abs(a) < np.finfo(a.dtype).tiny)


def state_buffer(state: dict[str, Any], name: str, w: Array) -> Array:
    """An optional state buffer, created at zero if its option was switched on mid-training."""
    buf = state.get(name)
    if buf is None:
        buf = state[name] = np.zeros_like(w)
    return buf


def sgd_update_(
    w: Array,
    g: Array,
    state: dict[str, Any],
    group: dict[str, Any],
    scratch: Scratch,
    keep: Array | None = None,
) -> bool | None:
    """`chainrule.optim.sgd.sgd_rule`, in place."""
    lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
    buf = state.get("momentum_buffer") if mu != 0 else None
    if mu == 0 or buf is not None:
        finite = kernels.sgd_(
            w, g, buf, lr=lr, weight_decay=wd, momentum=mu, dampening=group["dampening"],
            nesterov=group["nesterov"], keep=keep,
        )  # fmt: skip
        if finite is not None:
            return finite if keep is not None else None
    if keep is not None:
        np.copyto(keep, w)
    d = scratch(w, 0)  # the step direction, built without touching g
    if wd != 0:
        np.multiply(w, wd, out=d)
        np.add(d, g, out=d)  # g + λw
        g = d
    if mu != 0:
        v = state.get("momentum_buffer")
        if v is None:  # first step: v₁ = g (PyTorch), not (1 − τ) g
            v = state["momentum_buffer"] = np.array(g, dtype=w.dtype, copy=True)
        else:
            v *= mu
            if group["dampening"] == 0:
                v += g
            else:
                e = scratch(w, 1)
                np.multiply(g, 1.0 - group["dampening"], out=e)
                v += e
        if group["nesterov"]:
            e = scratch(w, 1)
            np.multiply(v, mu, out=e)
            np.add(g, e, out=d)  # g + μv
            g = d
        else:
            g = v
    np.multiply(g, lr, out=d)
    w -= d  # in place: w may be a view into a flat buffer
    return None


def adam_update_(
    w: Array,
    g: Array,
    state: dict[str, Any],
    group: dict[str, Any],
    scratch: Scratch,
    decoupled: bool = False,
    keep: Array | None = None,
) -> bool | None:
    """`chainrule.optim.adam.adam_rule`, in place (AdamW's with ``decoupled=True``)."""
    lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
    state["step"] += 1
    t = state["step"]
    m, v = state["exp_avg"], state["exp_avg_sq"]
    c = math.sqrt(1.0 - beta2**t)  # see the end
    if not group["amsgrad"]:  # compiled, one pass (AMSGrad takes NumPy's path)
        finite = kernels.adam_(
            w, g, m, v, betas=(beta1, beta2), step_size=lr * c / (1.0 - beta1**t),
            eps=group["eps"] * c, weight_decay=0.0 if decoupled else wd,
            decay=1.0 - lr * wd if decoupled else 1.0, keep=keep,
        )  # fmt: skip
        if finite is not None:
            if t % FLUSH_EVERY == 0:  # after w's update (NumPy: before; a difference in w
                flush_subnormals(m)  # of a subnormal number's share, far below rounding)
                flush_subnormals(v)
            return finite if keep is not None else None
    if keep is not None:
        np.copyto(keep, w)
    if wd != 0:
        if decoupled:
            w *= 1.0 - lr * wd  # AdamW: w ← w(1 − ηλ) before the Adam step
        else:
            d = scratch(w, 0)
            np.multiply(w, wd, out=d)
            np.add(d, g, out=d)  # g + λw
            g = d
    e = scratch(w, 1)
    m *= beta1
    np.multiply(g, 1.0 - beta1, out=e)
    m += e  # m ← β₁m + (1 − β₁)g (this order reads one array less than PyTorch's lerp)
    np.multiply(g, g, out=e)
    e *= 1.0 - beta2
    v *= beta2
    v += e  # v ← β₂v + (1 − β₂)g²
    if t % FLUSH_EVERY == 0:  # keep the averages out of the slow subnormal range
        flush_subnormals(m)
        flush_subnormals(v)
    if group["amsgrad"]:
        v_max = state_buffer(state, "max_exp_avg_sq", w)
        np.maximum(v_max, v, out=v_max)
        v = v_max
    # η m̂ / (√v̂ + ε) = η c / (1 − β₁ᵗ) · m / (√v + ε c) with c = √(1 − β₂ᵗ): the same
    # number, one pass over the arrays fewer than dividing √v by c (a pass costs as much
    # as a small layer's matrix product)
    np.sqrt(v, out=e)
    e += group["eps"] * c
    np.divide(m, e, out=e)
    e *= lr * c / (1.0 - beta1**t)
    w -= e
    return None


def rmsprop_update_(
    w: Array,
    g: Array,
    state: dict[str, Any],
    group: dict[str, Any],
    scratch: Scratch,
    keep: Array | None = None,
) -> bool | None:
    """`chainrule.optim.rmsprop.rmsprop_rule`, in place."""
    lr, alpha, wd, mu = group["lr"], group["alpha"], group["weight_decay"], group["momentum"]
    state["step"] += 1
    if not group["centered"]:  # compiled, one pass
        finite = kernels.rmsprop_(
            w, g, state["square_avg"],
            state_buffer(state, "momentum_buffer", w) if mu > 0 else None,
            lr=lr, alpha=alpha, eps=group["eps"], weight_decay=wd, momentum=mu, keep=keep,
        )  # fmt: skip
        if finite is not None:
            return finite if keep is not None else None
    if keep is not None:
        np.copyto(keep, w)
    if wd != 0:
        d = scratch(w, 0)
        np.multiply(w, wd, out=d)
        np.add(d, g, out=d)  # g + λw
        g = d
    r = scratch(w, 1)
    s = state["square_avg"]
    np.multiply(g, g, out=r)
    r *= 1.0 - alpha
    s *= alpha
    s += r  # s ← αs + (1 − α)g²
    if group["centered"]:
        gbar = state_buffer(state, "grad_avg", w)
        np.subtract(g, gbar, out=r)
        r *= 1.0 - alpha
        gbar += r  # ḡ ← ḡ + (1 − α)(g − ḡ) = αḡ + (1 − α)g
        np.multiply(gbar, gbar, out=r)
        np.subtract(s, r, out=r)
        # s ≥ ḡ² holds exactly; clip the rounding error so the square root stays real
        np.maximum(r, 0.0, out=r)
        np.sqrt(r, out=r)
    else:
        np.sqrt(s, out=r)
    r += group["eps"]
    np.divide(g, r, out=r)  # g / r
    if mu > 0:
        v = state_buffer(state, "momentum_buffer", w)
        v *= mu
        v += r
        np.multiply(v, lr, out=r)
    else:
        r *= lr
    w -= r
    return None
