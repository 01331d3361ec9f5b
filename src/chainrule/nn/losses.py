"""Losses E(ŷ, y): the mean over the samples of a batch, each one fused forward/backward op.

All are called as ``loss(prediction, target, sample_weight=None)``; rows are samples. The
target may be a Tensor or an array. With ``sample_weight`` (one non-negative number per
sample) the mean becomes the weighted mean Σₙ sₙ Eₙ / Σₙ sₙ. Targets are constants: only the
prediction receives a gradient, except in the regression losses, where a target Tensor that
requires gradients receives one too.

Classification losses take *logits* (the last layer's a⁽ᴷ⁾, before any sigmoid/softmax): the
fused kernels are numerically stable for any logit and their gradient has the simple form
∂E/∂a = (p − y) / N that the lecture derives for matching output units and losses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.ops import stable_sigmoid
from chainrule.autograd.tensor import Array, Tensor, as_tensor
from chainrule.nn.module import Module
from chainrule.nn.softmax import _softmax_parts, check_labels, softmax_cross_entropy

__all__ = [
    "LOSSES",
    "BinaryCrossEntropy",
    "CrossEntropyLoss",
    "MSELoss",
    "SquaredError",
    "binary_cross_entropy",
    "cross_entropy",
    "get_loss",
    "mse_loss",
    "squared_error",
]


# ---------------------------------------------------------------------- input checks
def _regression_pair(prediction: Any, target: Any, loss: str) -> tuple[Tensor, Tensor]:
    """Prediction and target tensors of the same shape; (N,) and (N, 1) are matched up."""
    pred = as_tensor(prediction)
    tgt = target if isinstance(target, Tensor) else Tensor(np.asarray(target, pred.data.dtype))
    if tgt.data.shape != pred.data.shape:
        n = pred.data.shape[0] if pred.data.ndim else 1
        if pred.data.size == tgt.data.size == n and max(pred.data.ndim, tgt.data.ndim) <= 2:
            # A column of predictions against a flat target (or the reverse): one output each.
            tgt = tgt.reshape(pred.data.shape)
        else:
            raise ValueError(
                f"{loss}: prediction has shape {pred.shape} but target has shape {tgt.shape}"
            )
    if tgt.data.dtype != pred.data.dtype and not tgt.requires_grad:
        tgt = Tensor._make(tgt.data.astype(pred.data.dtype), (), None, "")
    return pred, tgt


def _normalized_weights(sample_weight: Any, n: int, dtype: Any, loss: str) -> Array | None:
    """sₙ / Σₘ sₘ, shaped (n,), or None for the plain mean."""
    if sample_weight is None:
        return None
    s = np.asarray(sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight)
    if s.shape != (n,):
        raise ValueError(f"{loss}: sample_weight has shape {s.shape}, expected ({n},)")
    s = s.astype(np.float64)
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError(f"{loss}: sample_weight must be finite and non-negative")
    total = s.sum()
    if total <= 0:
        raise ValueError(f"{loss}: sample_weight sums to 0; at least one sample must count")
    return (s / total).astype(dtype)


def _per_sample(w: Array, ndim: int) -> Array:
    """Sample weights shaped to broadcast over the outputs of each sample."""
    return w.reshape(w.shape + (1,) * (ndim - 1))


def _regression_loss(
    prediction: Any, target: Any, sample_weight: Any, loss: str, per_element: bool
) -> Tensor:
    """Shared kernel: E = c Σ (ŷ − y)², c = ½/N (squared error) or 1/(N K) (MSE).

    Derivative: ∂E/∂ŷ = 2c (ŷ − y), ∂E/∂y = −2c (ŷ − y) (times each sample's weight).
    """
    pred, tgt = _regression_pair(prediction, target, loss)
    diff = pred.data - tgt.data
    n = diff.shape[0] if diff.ndim else 1
    k = diff.size // n if n else 0
    if n == 0:
        raise ValueError(f"{loss}: empty batch")
    # E = coef · Σ ... and ∂E/∂ŷ = 2 coef (ŷ − y): coef folds in ½ or 1/K, and the 1/N mean.
    scale = 1.0 / k if per_element else 0.5
    w = _normalized_weights(sample_weight, n, diff.dtype, loss)
    if w is None:
        value, grad_coef = squared_terms(diff, per_element)
    else:
        per = (diff * diff).reshape(n, -1).sum(axis=1)
        value = scale * float(np.dot(w.astype(np.float64), per))
        grad_coef = _per_sample(w * diff.dtype.type(2.0 * scale), diff.ndim)

    def backward(g: Array) -> tuple[Array, Array | None]:
        d_pred = diff * (grad_coef * g)
        return d_pred, (-d_pred if tgt.requires_grad else None)

    out = np.asarray(value, dtype=diff.dtype)
    return Tensor._make(out, (pred, tgt), backward, loss)


def squared_terms(diff: Array, per_element: bool) -> tuple[float, Any]:
    """(E, c) for the residuals ŷ − y of a batch without sample weights: E = c/2 Σ (ŷ − y)² and
    ∂E/∂ŷ = c (ŷ − y), with c = 1/N (squared error) or 2/(N K) (MSE, `per_element`)."""
    n = diff.shape[0] if diff.ndim else 1
    scale = 1.0 / (diff.size // n) if per_element else 0.5
    return scale / n * float(np.vdot(diff.ravel(), diff.ravel())), 2.0 * scale / n


# ---------------------------------------------------------------------- functions
def squared_error(prediction: Any, target: Any, sample_weight: Any = None) -> Tensor:
    """The lecture's E = (1/N) Σₙ Eₙ with Eₙ = ½ Σₖ (ŷₙₖ − yₙₖ)².

    The ½ cancels in the derivative: ∂Eₙ/∂ŷₙ = ŷₙ − yₙ, so with a sigmoid output
    δ⁽ᴷ⁾ = (ŷ − y) ∘ σ′(a⁽ᴷ⁾) as in the lecture; over a batch, ∂E/∂ŷ = (ŷ − y) / N.
    """
    return _regression_loss(prediction, target, sample_weight, "squared_error", False)


def mse_loss(prediction: Any, target: Any, sample_weight: Any = None) -> Tensor:
    """Mean squared error over all elements, E = (1/(N K)) Σₙₖ (ŷₙₖ − yₙₖ)².

    ∂E/∂ŷ = 2 (ŷ − y) / (N K). With sample weights, each sample's mean over its K outputs is
    weighted.
    """
    return _regression_loss(prediction, target, sample_weight, "mse_loss", True)


def binary_cross_entropy(logits: Any, target: Any, sample_weight: Any = None) -> Tensor:
    """Binary cross-entropy on logits a, targets y ∈ [0, 1], p = σ(a), mean over elements.

    ℓ = −[y log p + (1 − y) log(1 − p)], computed as max(a, 0) − a y + log(1 + e^(−|a|)),
    which never overflows (a = ±1000 is fine). ∂ℓ/∂a = σ(a) − y.
    """
    x, tgt = _regression_pair(logits, target, "binary_cross_entropy")
    a, y = x.data, tgt.data
    if np.any((y < 0) | (y > 1)):
        raise ValueError("binary_cross_entropy: targets must lie in [0, 1] (class 1 = 1.0)")
    n = a.shape[0] if a.ndim else 1
    if a.size == 0:
        raise ValueError("binary_cross_entropy: empty batch")
    elementwise = np.maximum(a, 0) - a * y + np.log1p(np.exp(-np.abs(a)))
    w = _normalized_weights(sample_weight, n, a.dtype, "binary_cross_entropy")
    if w is None:
        value = float(elementwise.sum(dtype=np.float64)) / a.size
        coef: Any = 1.0 / a.size
    else:
        k = a.size // n
        per = elementwise.reshape(n, -1).sum(axis=1, dtype=np.float64) / k
        value = float(np.dot(w.astype(np.float64), per))
        coef = _per_sample(w / a.dtype.type(k), a.ndim)

    def backward(g: Array) -> tuple[Array, Array | None]:
        d_a = (stable_sigmoid(a) - y) * (coef * g)
        d_y = -a * (coef * g) if tgt.requires_grad else None  # ∂ℓ/∂y = −a
        return d_a, d_y

    return Tensor._make(np.asarray(value, a.dtype), (x, tgt), backward, "binary_cross_entropy")


def cross_entropy(
    logits: Any,
    target: Any,
    weight: Any = None,
    label_smoothing: float = 0.0,
    sample_weight: Any = None,
) -> Tensor:
    """Softmax cross-entropy on logits a (N, C) and integer labels y (N,), fused.

    Eₙ = −log pₙ,ᵧₙ with p = softmax(a), computed as log Σⱼ e^(aⱼ − m) − (a_y − m), m = max a,
    so logits of ±1000 are fine. The backward pass is the well-known
    ∂E/∂a = (p − onehot(y)) / N, with no separate softmax Jacobian.

    Options follow PyTorch: `weight` (C,) weighs each sample by w_yₙ and normalizes by Σₙ w_yₙ;
    `label_smoothing` ε replaces onehot(y) by (1 − ε) onehot(y) + ε/C; `sample_weight` (N,)
    multiplies sample n's term and its share of the normalizer Σₙ sₙ w_yₙ.
    """
    x = as_tensor(logits)
    a = x.data
    if a.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {a.shape}")
    n, c = a.shape
    if n == 0:
        raise ValueError("cross_entropy: empty batch")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    y = check_labels(target, n, c)
    if weight is None and sample_weight is None and not label_smoothing:
        value, p_minus_onehot = softmax_cross_entropy(a, y)

        def simple_backward(g: Array) -> tuple[Array]:  # (p − onehot(y)) · g / N
            return (p_minus_onehot * (g / n),)

        return Tensor._make(np.asarray(value, a.dtype), (x,), simple_backward, "cross_entropy")
    dtype, eps = a.dtype, float(label_smoothing)
    w = None if weight is None else np.asarray(weight, dtype=dtype)
    if w is not None and w.shape != (c,):
        raise ValueError(f"cross_entropy: weight has shape {w.shape}, expected ({c},)")

    flat_y, p, lse, nll, smooth_sum = _softmax_parts(a, y, w, eps)

    s = _normalized_weights(sample_weight, n, dtype, "cross_entropy")
    s = np.full(n, 1.0, dtype) if s is None else s
    wy = np.ones(n, dtype) if w is None else w[y]
    w_sum = float(c) if w is None else float(w.sum())
    per = (1.0 - eps) * wy * nll
    if eps:
        per += eps / c * (w_sum * lse - smooth_sum)
    denom = float(np.dot(s.astype(np.float64), wy))
    if denom <= 0:
        raise ValueError("cross_entropy: the weights of the batch's samples sum to 0")
    value = float(np.dot(s.astype(np.float64), per)) / denom
    coef = s / dtype.type(denom)  # per-sample factor of the gradient

    def backward(g: Array) -> tuple[Array]:
        # ∂ℓₙ/∂aₙ = p [(1−ε) w_y + ε Σw / C] − (1−ε) w_y onehot(y) − (ε/C) w
        cg = coef * g
        grad = p * (cg * ((1.0 - eps) * wy + eps * w_sum / c))[:, None]
        grad.reshape(-1)[flat_y] -= cg * (1.0 - eps) * wy
        if eps:
            grad -= (eps / c) * cg[:, None] * (1.0 if w is None else w)
        return (grad,)

    return Tensor._make(np.asarray(value, dtype), (x,), backward, "cross_entropy")


# ---------------------------------------------------------------------- modules
class SquaredError(Module):
    """The lecture's squared error, mean over samples of ½ Σₖ (ŷₖ − yₖ)² (see `squared_error`)."""

    def forward(self, prediction: Any, target: Any, sample_weight: Any = None) -> Tensor:
        return squared_error(prediction, target, sample_weight)


class MSELoss(Module):
    """Mean squared error over all elements (see `mse_loss`)."""

    def forward(self, prediction: Any, target: Any, sample_weight: Any = None) -> Tensor:
        return mse_loss(prediction, target, sample_weight)


class BinaryCrossEntropy(Module):
    """Binary cross-entropy from logits, targets 0/1 (see `binary_cross_entropy`)."""

    def forward(self, prediction: Any, target: Any, sample_weight: Any = None) -> Tensor:
        return binary_cross_entropy(prediction, target, sample_weight)


class CrossEntropyLoss(Module):
    """Softmax cross-entropy from logits and integer labels (see `cross_entropy`).

    Parameters
    ----------
    weight : array_like of shape (C,), optional
        Class weights w_c (non-negative).
    label_smoothing : float
        ε in [0, 1]: the target distribution is (1 − ε) onehot(y) + ε/C.
    """

    def __init__(self, weight: Any = None, label_smoothing: float = 0.0) -> None:
        super().__init__()
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float64)
            if weight.ndim != 1 or np.any(weight < 0) or not np.all(np.isfinite(weight)):
                raise ValueError("weight must be a 1-d array of non-negative class weights")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
        self.weight = weight
        self.label_smoothing = float(label_smoothing)

    def forward(self, prediction: Any, target: Any, sample_weight: Any = None) -> Tensor:
        return cross_entropy(prediction, target, self.weight, self.label_smoothing, sample_weight)

    def extra_repr(self) -> str:
        parts = []
        if self.weight is not None:
            parts.append(f"weight={np.array2string(self.weight, precision=3, separator=', ')}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(parts)


LOSSES: dict[str, type[Module]] = {
    "squared_error": SquaredError,
    "mse": MSELoss,
    "binary_cross_entropy": BinaryCrossEntropy,
    "cross_entropy": CrossEntropyLoss,
}


def get_loss(name: str | Module, **kwargs: Any) -> Module:
    """A new loss module by name in `LOSSES` (keyword arguments go to it), or `name` itself."""
    if isinstance(name, Module):
        return name
    if isinstance(name, str) and name.lower() in LOSSES:
        return LOSSES[name.lower()](**kwargs)
    raise ValueError(f"unknown loss {name!r}; valid names: {', '.join(LOSSES)}")
