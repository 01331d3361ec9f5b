"""Softmax cross-entropy on arrays: the label check and the numerically safe softmax.

`chainrule.nn.losses.cross_entropy` builds its op from these; the training loop's step
without a graph (`chainrule.training.fused`) calls `softmax_cross_entropy` directly, so both
compute the same numbers with the same code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.tensor import Array, Tensor
from chainrule.fast import kernels

__all__ = ["check_labels", "softmax_cross_entropy"]


def check_labels(target: Any, n: int, n_classes: int) -> Array:
    """`target` as n class indices in [0, n_classes) of dtype intp; ValueError otherwise."""
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    if y.shape != (n,):
        raise ValueError(
            f"cross_entropy: labels must have shape ({n},), one class index per sample, "
            f"got {y.shape}"
        )
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError("cross_entropy: labels must be integer class indices")
    elif y.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: labels must be integer class indices, got {y.dtype}")
    y = y.astype(np.intp, copy=False)
    # One reduction checks both bounds: seen as unsigned, a negative label is huge. (This runs
    # every step; maximum.reduce is y.max() without its Python-level wrapper.)
    if n and np.maximum.reduce(y.view(np.uintp)) >= n_classes:
        raise ValueError(
            f"cross_entropy: labels must lie in [0, {n_classes}), got {y.min()}..{y.max()}"
        )
    return y


def _shift(a: Array, a_y: Array) -> Any:
    """The m of softmax(a) = e^(a − m) / Σ e^(a − m): the batch's maximum when it will do, else
    each row's maximum (an (N, 1) column).

    Softmax does not depend on m, but m must keep e^(a − m) ≤ 1 (no overflow) and leave each
    row's largest term a normal number (no precision lost to underflow). Each row's own maximum
    always does; the batch's maximum does whenever every row's maximum lies within
    log(tiny/eps) ≈ −71 (float32) of it, which holds if every target logit a_{n,yₙ} does. That
    is checked in two fast reductions, while NumPy's max along a short last axis is slow (for
    10 classes it costs more than the whole rest of the loss).
    """
    m = np.maximum.reduce(a, axis=None)  # a.max() without the Python-level wrapper
    lowest = _LOWEST_SAFE.get(a.dtype)
    if lowest is None:
        info = np.finfo(a.dtype)
        lowest = _LOWEST_SAFE[a.dtype] = float(np.log(info.tiny / info.eps))
    if np.minimum.reduce(a_y) - m >= lowest:  # False for NaN: the rows' maxima handle those
        return m
    return a.max(axis=1, keepdims=True)


_LOWEST_SAFE: dict[np.dtype[Any], float] = {}  # log(tiny / eps) per floating dtype
_ONES: dict[tuple[int, np.dtype[Any]], Array] = {}
_ROW_STARTS: dict[tuple[int, int], Array] = {}


def _row_starts(n: int, c: int) -> Array:
    """0, c, 2c, ...: the flat index of each row's first element (kept, read-only)."""
    v = _ROW_STARTS.get((n, c))
    if v is None:
        if len(_ROW_STARTS) > 64:  # batch sizes vary little; do not grow without bound
            _ROW_STARTS.clear()
        v = _ROW_STARTS[(n, c)] = np.arange(0, n * c, c)
        v.flags.writeable = False
    return v


def _ones(c: int, dtype: np.dtype[Any]) -> Array:
    """A read-only vector of c ones (kept: the loss needs one every step)."""
    v = _ONES.get((c, dtype))
    if v is None:
        v = _ONES[(c, dtype)] = np.ones(c, dtype)
        v.flags.writeable = False
    return v


def softmax_cross_entropy(a: Array, y: Array) -> tuple[float, Array]:
    """(E, p − onehot(y)) for logits a (N, C) and valid labels y (N,) of dtype intp: the plain
    case of `cross_entropy` (no weights, no smoothing) without a graph, its gradient
    ∂E/∂a = (p − onehot(y)) / N but for the factor 1/N, in a new array.

    E = (1/N) Σₙ −log pₙ,ᵧₙ, summed in float64. Compiled (one pass) when the kernels run.
    """
    n = len(a)
    fused = kernels.softmax_cross_entropy(a, y)  # compiled: one pass over the logits
    if fused is not None:
        total, p_minus_onehot = fused
        return total / n, p_minus_onehot
    flat_y, p, _, nll, _ = _softmax_parts(a, y, None, 0.0)
    value = float(np.add.reduce(nll, dtype=np.float64)) / n
    p.reshape(-1)[flat_y] -= 1  # p − onehot(y): the gradient but for its factor 1/N
    return value, p


def _softmax_parts(
    a: Array, y: Array, w: Array | None, eps: float
) -> tuple[Array, Array, Array, Array, Any]:
    """(flat_y, p, lse, nll, smooth_sum): where a_{n,yₙ} sit in the flattened batch,
    p = softmax(a) (a new array), lse = log Σ e^(a − m), −log p_y, and for smoothing ε
    Σ_c w_c (a_c − m) (None without)."""
    n, c = a.shape
    flat_y = _row_starts(n, c) + y  # where the a_{n,yₙ} sit in the flattened batch
    a_y = a.take(flat_y)
    shifted = a - _shift(a, a_y)  # a − m: e^(a − m) cannot overflow
    picked = shifted.take(flat_y)
    smooth_sum = None
    if eps:  # Σ_c w_c (a_c − m), needed for the smoothed term before shifted is overwritten
        smooth_sum = shifted.sum(axis=1) if w is None else shifted @ w
    p = np.exp(shifted, out=shifted)  # reuse the buffer: p = softmax(a) after the division
    # Row sums as a matrix-vector product: for few classes much faster than sum(axis=1).
    total = p @ _ones(c, a.dtype)
    p /= total[:, None]
    lse = np.log(total)  # log Σ e^(a − m)
    return flat_y, p, lse, lse - picked, smooth_sum
