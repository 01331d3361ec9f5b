"""The network operations as functions: activations z = σ(a), `linear`, `dropout`, losses.

Each function takes Tensors (arrays are wrapped as constants) and returns a Tensor. Its docstring
gives the local derivative that its backward pass applies; after ``E.backward()`` the gradient
arriving at the input a of an activation is the lecture's δ = ∂E/∂a = ∂E/∂z ∘ σ′(a).
Functions that are not engine primitives are written as one fused op with their own backward
(one node in the graph instead of several), which is faster and keeps the graph readable.
The loss functions are defined in `chainrule.nn.losses` and re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.tensor import Array, Tensor, as_tensor
from chainrule.rng import Seed, as_generator

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "binary_cross_entropy",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "identity",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "squared_error",
    "tanh",
]


# ---------------------------------------------------------------------- activations
def sigmoid(a: Any) -> Tensor:
    """σ(a) = 1 / (1 + e⁻ᵃ) (logistic).  σ′(a) = σ(a)(1 − σ(a)), at most 1/4."""
    return as_tensor(a).sigmoid()


def tanh(a: Any) -> Tensor:
    """tanh(a) = (eᵃ − e⁻ᵃ) / (eᵃ + e⁻ᵃ).  tanh′(a) = 1 − tanh²(a)."""
    return as_tensor(a).tanh()


def relu(a: Any) -> Tensor:
    """ReLU(a) = max(a, 0).  ReLU′(a) = 1 for a > 0, else 0 (0 at a = 0, as PyTorch)."""
    return as_tensor(a).relu()


def leaky_relu(a: Any, negative_slope: float = 0.01) -> Tensor:
    """LeakyReLU(a) = a for a > 0, else s·a.  Derivative: 1 for a > 0, else s (the slope).

    The small slope s keeps a gradient flowing through units whose input is negative, which
    plain ReLU would silence ("dead" units).
    """
    a = as_tensor(a)
    positive = a.data > 0
    slope = float(negative_slope)

    def backward(g: Array) -> tuple[Array]:
        return (np.where(positive, g, g * slope),)

    out = np.where(positive, a.data, a.data * slope)
    return Tensor._make(out, (a,), backward, "leaky_relu")


def identity(a: Any) -> Tensor:
    """id(a) = a (a linear output unit, e.g. for regression).  Derivative 1: `a` itself."""
    return as_tensor(a)


def softmax(a: Any, axis: int = -1) -> Tensor:
    """softmax(a)ᵢ = e^(aᵢ) / Σⱼ e^(aⱼ) along `axis` (outputs are positive and sum to 1).

    Jacobian ∂sᵢ/∂aⱼ = sᵢ(δᵢⱼ − sⱼ), so the backward pass is ∂E/∂a = s ∘ (g − Σⱼ gⱼ sⱼ).
    Computed as e^(a − max a), which cannot overflow and leaves the result unchanged.
    """
    a = as_tensor(a)
    shifted = a.data - a.data.max(axis=axis, keepdims=True)
    out = np.exp(shifted, out=shifted)
    out /= out.sum(axis=axis, keepdims=True)

    def backward(g: Array) -> tuple[Array]:
        return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)

    return Tensor._make(out, (a,), backward, "softmax")


def log_softmax(a: Any, axis: int = -1) -> Tensor:
    """log softmax(a)ᵢ = aᵢ − log Σⱼ e^(aⱼ), computed stably as (a − m) − log Σⱼ e^(aⱼ − m).

    ∂ log sᵢ / ∂aⱼ = δᵢⱼ − sⱼ, so the backward pass is ∂E/∂a = g − s Σᵢ gᵢ.
    """
    a = as_tensor(a)
    shifted = a.data - a.data.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(g: Array) -> tuple[Array]:
        return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)

    return Tensor._make(out, (a,), backward, "log_softmax")


# ---------------------------------------------------------------------- layers
def linear(z: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """a = W z + b for every row z of the batch, as one fused op: ``z @ W.T + b``.

    Shapes: z (..., in), W (out, in) — the lecture's W⁽ᵏ⁾ —, b (out,); a (..., out).
    With g = ∂E/∂a (the lecture's δ, one row per sample) the backward pass is

        ∂E/∂z = g W,   ∂E/∂W = gᵀ z  (= Σₙ δₙ zₙᵀ),   ∂E/∂b = Σₙ gₙ,

    and skips the products for inputs that need no gradient (e.g. ∂E/∂x for the data).
    """
    z = as_tensor(z)
    W = weight.data
    if W.ndim != 2:
        raise ValueError(f"linear needs a 2-d weight (out, in), got shape {W.shape}")
    n_out, n_in = W.shape
    if z.data.ndim == 0 or z.data.shape[-1] != n_in:
        raise ValueError(f"linear expects inputs with {n_in} features (last axis), got {z.shape}")
    if bias is not None and bias.data.shape != (n_out,):
        raise ValueError(f"bias has shape {bias.data.shape}, expected ({n_out},)")
    x = z.data
    out = x @ W.T  # W.T is a view: BLAS reads the transpose, nothing is copied
    if bias is not None:
        out += bias.data
    parents = (z, weight) if bias is None else (z, weight, bias)

    def backward(g: Array) -> tuple[Array | None, ...]:
        g2 = g if g.ndim == 2 else g.reshape(-1, n_out)
        gz = None
        if z.requires_grad:
            gz = g2 @ W if x.ndim == 2 else (g2 @ W).reshape(x.shape)
        gW = None
        if weight.requires_grad:
            x2 = x if x.ndim == 2 else x.reshape(-1, n_in)
            gW = g2.T @ x2
        if bias is None:
            return gz, gW
        # add.reduce is np.sum without its Python wrapper (which costs more than the sum)
        gb = np.add.reduce(g2, axis=0) if bias.requires_grad else None
        return gz, gW, gb

    return Tensor._make(out, parents, backward, "linear")


def dropout(z: Any, rate: float, training: bool = True, rng: Seed = None) -> Tensor:
    """Inverted dropout: each element is zeroed with probability `rate`, survivors scaled.

    out = z ∘ m / (1 − rate) with mᵢ ~ Bernoulli(1 − rate), so E[out] = z and nothing needs
    rescaling at evaluation time, when (``training=False``) dropout is the identity. The
    lecture's keep probability is p = 1 − rate. Derivative: ∂out/∂z = m / (1 − rate).

    Parameters
    ----------
    z : Tensor
    rate : float
        Probability of dropping a unit, in [0, 1].
    training : bool
        Dropout acts only in training.
    rng : int, numpy.random.Generator or None
        Source of the masks (None: the library's default generator, seeded by `cr.set_seed`).
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"dropout rate must be in [0, 1], got {rate}")
    z = as_tensor(z)
    if not training or rate == 0.0:
        return z
    dtype = z.data.dtype
    if rate == 1.0:
        mask = np.zeros_like(z.data)
    else:
        gen = as_generator(rng)
        draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
        u = gen.random(z.data.shape, dtype=draw_dtype)
        mask = np.where(u >= rate, dtype.type(1.0 / (1.0 - rate)), dtype.type(0.0))

    def backward(g: Array) -> tuple[Array]:
        return (g * mask,)

    return Tensor._make(z.data * mask, (z,), backward, "dropout")


# The losses live with their classes; the functional spellings are re-exported here.
# Convolution and pooling live in their own modules; the functional spellings are here too.
from chainrule.nn.conv_ops import conv1d, conv2d  # noqa: E402
from chainrule.nn.losses import (  # noqa: E402
    binary_cross_entropy,
    cross_entropy,
    mse_loss,
    squared_error,
)
from chainrule.nn.pool_ops import (  # noqa: E402
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
