"""The primitive operations and their local derivatives.

Each op computes its value with NumPy and returns ``Tensor._make(value, parents, backward, op)``.
``backward(g)`` receives g = ∂E/∂out and returns one gradient per parent, ∂E/∂in = g · ∂out/∂in
(None where no gradient is needed). The local derivative ∂out/∂in of every op is written in its
docstring, so this file is the table of calculus the engine knows.

Broadcasting: when NumPy stretched an input to the output's shape, the input's gradient is the
sum of the gradient over the stretched axes (`unbroadcast`), because the same input value was
used in each of those positions (the sum rule).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from chainrule.autograd.tensor import Array, Tensor, as_tensor

Axis = int | tuple[int, ...] | None


def unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum `g` down to `shape`, undoing NumPy broadcasting."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a)
    b = as_tensor(b)
    return as_tensor(a, like=b), b


# ---------------------------------------------------------------------- arithmetic
def add(a: Any, b: Any) -> Tensor:
    """a + b.  ∂out/∂a = 1, ∂out/∂b = 1."""
    a, b = _pair(a, b)

    def backward(g: Array) -> tuple[Array | None, Array | None]:
        ga = unbroadcast(g, a.data.shape) if a.requires_grad else None
        gb = unbroadcast(g, b.data.shape) if b.requires_grad else None
        return ga, gb

    return Tensor._make(a.data + b.data, (a, b), backward, "+")


def sub(a: Any, b: Any) -> Tensor:
    """a − b.  ∂out/∂a = 1, ∂out/∂b = −1."""
    a, b = _pair(a, b)

    def backward(g: Array) -> tuple[Array | None, Array | None]:
        ga = unbroadcast(g, a.data.shape) if a.requires_grad else None
        gb = unbroadcast(-g, b.data.shape) if b.requires_grad else None
        return ga, gb

    return Tensor._make(a.data - b.data, (a, b), backward, "-")


def mul(a: Any, b: Any) -> Tensor:
    """a · b (elementwise).  ∂out/∂a = b, ∂out/∂b = a."""
    a, b = _pair(a, b)

    def backward(g: Array) -> tuple[Array | None, Array | None]:
        ga = unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None
        gb = unbroadcast(g * a.data, b.data.shape) if b.requires_grad else None
        return ga, gb

    return Tensor._make(a.data * b.data, (a, b), backward, "*")


def div(a: Any, b: Any) -> Tensor:
    """a / b.  ∂out/∂a = 1/b, ∂out/∂b = −a/b²."""
    a, b = _pair(a, b)
    out = a.data / b.data

    def backward(g: Array) -> tuple[Array | None, Array | None]:
        ga = unbroadcast(g / b.data, a.data.shape) if a.requires_grad else None
        gb = unbroadcast(-g * out / b.data, b.data.shape) if b.requires_grad else None
        return ga, gb

    return Tensor._make(out, (a, b), backward, "/")


def neg(a: Tensor) -> Tensor:
    """−a.  ∂out/∂a = −1."""

    def backward(g: Array) -> tuple[Array]:
        return (-g,)

    return Tensor._make(-a.data, (a,), backward, "neg")


def power(a: Tensor, p: float) -> Tensor:
    """a ** p for a constant number p.  ∂out/∂a = p · a^(p−1)."""
    if isinstance(p, Tensor) or not np.isscalar(p):
        raise ValueError("Tensor ** p supports a constant number p only")
    p_arr = np.asarray(p, dtype=a.data.dtype)

    def backward(g: Array) -> tuple[Array]:
        return (g * p_arr * a.data ** (p_arr - 1),)

    return Tensor._make(a.data**p_arr, (a,), backward, f"**{p}")


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b, as NumPy does for 1-d, 2-d and batched operands.

    For out = A B:  ∂E/∂A = g Bᵀ,  ∂E/∂B = Aᵀ g  (with batch dimensions summed where broadcast).
    """
    a, b = _pair(a, b)
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise ValueError("matmul needs operands with at least one dimension; use * for scalars")

    def backward(g: Array) -> tuple[Array | None, Array | None]:
        A, B = a.data, b.data
        if A.ndim == 1 and B.ndim == 1:  # inner product A·B: ∂/∂A = B, ∂/∂B = A
            return (g * B if a.requires_grad else None, g * A if b.requires_grad else None)
        # Promote 1-d operands to matrices as NumPy does, then drop the added axis again.
        if A.ndim == 1:
            A, g = A[None, :], np.expand_dims(g, -2)
        if B.ndim == 1:
            B, g = B[:, None], np.expand_dims(g, -1)
        ga = gb = None
        if a.requires_grad:
            ga = g @ np.swapaxes(B, -1, -2)
            ga = ga.reshape((*ga.shape[:-2], ga.shape[-1])) if a.data.ndim == 1 else ga
            ga = unbroadcast(ga, a.data.shape)
        if b.requires_grad:
            gb = np.swapaxes(A, -1, -2) @ g
            gb = gb.reshape(gb.shape[:-1]) if b.data.ndim == 1 else gb
            gb = unbroadcast(gb, b.data.shape)
        return ga, gb

    return Tensor._make(a.data @ b.data, (a, b), backward, "@")


# ---------------------------------------------------------------------- reductions
def _expand(g: Array, shape: tuple[int, ...], axis: Axis, keepdims: bool) -> Array:
    """Put the reduced axes back into `g` and stretch it to `shape` (a read-only view)."""
    if axis is not None and not keepdims:
        axes = (axis,) if isinstance(axis, int) else axis
        g = np.expand_dims(g, tuple(ax % len(shape) for ax in axes))
    return np.broadcast_to(g, shape)


def sum(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Σ a over `axis`.  ∂out/∂aᵢ = 1 for every summed element."""

    def backward(g: Array) -> tuple[Array]:
        return (_expand(g, a.data.shape, axis, keepdims),)

    return Tensor._make(np.sum(a.data, axis=axis, keepdims=keepdims), (a,), backward, "sum")


def mean(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean of a over `axis`.  ∂out/∂aᵢ = 1/n, n the number of averaged elements."""
    out = np.mean(a.data, axis=axis, keepdims=keepdims)
    n = a.data.size // builtins.max(np.size(out), 1) if a.data.size else 1

    def backward(g: Array) -> tuple[Array]:
        return (_expand(g / np.asarray(n, dtype=g.dtype), a.data.shape, axis, keepdims),)

    return Tensor._make(out, (a,), backward, "mean")


def max(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """max of a over `axis`.  ∂out/∂aᵢ = 1/k where aᵢ is one of k tied maxima, else 0.

    Ties split the gradient equally, so the sum over an axis of ∂out/∂a stays 1.
    """
    out_kept = np.max(a.data, axis=axis, keepdims=True)
    out = out_kept if keepdims else np.squeeze(out_kept, axis=axis)

    def backward(g: Array) -> tuple[Array]:
        mask = a.data == out_kept
        count = mask.sum(axis=axis, keepdims=True)
        g_kept = g if keepdims else np.reshape(g, out_kept.shape)
        return (mask * (g_kept / count.astype(g.dtype)),)

    return Tensor._make(out, (a,), backward, "max")


# ---------------------------------------------------------------------- elementwise functions
def exp(a: Tensor) -> Tensor:
    """eᵃ.  ∂out/∂a = eᵃ = out."""
    out = np.exp(a.data)

    def backward(g: Array) -> tuple[Array]:
        return (g * out,)

    return Tensor._make(out, (a,), backward, "exp")


def log(a: Tensor) -> Tensor:
    """ln a.  ∂out/∂a = 1/a."""

    def backward(g: Array) -> tuple[Array]:
        return (g / a.data,)

    return Tensor._make(np.log(a.data), (a,), backward, "log")


def sqrt(a: Tensor) -> Tensor:
    """√a.  ∂out/∂a = 1 / (2√a)."""
    out = np.sqrt(a.data)

    def backward(g: Array) -> tuple[Array]:
        return (g / (2 * out),)

    return Tensor._make(out, (a,), backward, "sqrt")


def abs(a: Tensor) -> Tensor:
    """|a|.  ∂out/∂a = sign(a) (0 at a = 0, the subgradient PyTorch uses)."""

    def backward(g: Array) -> tuple[Array]:
        return (g * np.sign(a.data),)

    return Tensor._make(np.abs(a.data), (a,), backward, "abs")


def derivative_from_output(name: str, z: Array) -> Array:
    """σ′(a) written through the output z = σ(a), for the activations where that is possible.

    relu: [z > 0] (= [a > 0]);  sigmoid: z(1 − z);  tanh: 1 − z².

    The one place these three derivatives are written: the ops below and the fused dense
    chain (`chainrule.fast.dense_chain`) both use it.
    """
    if name == "relu":
        return z > 0
    if name == "sigmoid":
        return z * (1 - z)
    if name == "tanh":
        return 1 - z * z
    raise ValueError(f"no derivative through the output for {name!r}")


def relu(a: Tensor) -> Tensor:
    """max(a, 0).  ∂out/∂a = 1 where a > 0, else 0."""
    out = np.maximum(a.data, 0)

    def backward(g: Array) -> tuple[Array]:
        return (g * derivative_from_output("relu", out),)

    return Tensor._make(out, (a,), backward, "relu")


def stable_sigmoid(x: Array) -> Array:
    """σ(x) = 1 / (1 + e⁻ˣ) without overflow: only e^(−|x|) ≤ 1 is ever computed."""
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r).astype(x.dtype, copy=False)  # σ(−|x|) = e^(−|x|) σ(|x|)


def sigmoid(a: Tensor) -> Tensor:
    """σ(a) = 1 / (1 + e⁻ᵃ).  ∂out/∂a = σ(a)(1 − σ(a))."""
    out = stable_sigmoid(a.data)

    def backward(g: Array) -> tuple[Array]:
        return (g * derivative_from_output("sigmoid", out),)

    return Tensor._make(out, (a,), backward, "sigmoid")


def tanh(a: Tensor) -> Tensor:
    """tanh a.  ∂out/∂a = 1 − tanh²(a)."""
    out = np.tanh(a.data)

    def backward(g: Array) -> tuple[Array]:
        return (g * derivative_from_output("tanh", out),)

    return Tensor._make(out, (a,), backward, "tanh")


# ---------------------------------------------------------------------- shape
def reshape(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The same values in a new shape.  The gradient is reshaped back."""

    def backward(g: Array) -> tuple[Array]:
        return (g.reshape(a.data.shape),)

    return Tensor._make(a.data.reshape(shape), (a,), backward, "reshape")


def transpose(a: Tensor, axes: tuple[int, ...] | None = None) -> Tensor:
    """Axes permuted (reversed by default).  The gradient is permuted back."""
    out = np.transpose(a.data, axes)  # validates `axes` (NumPy accepts negative ones)
    inverse = None if axes is None else tuple(np.argsort([ax % a.data.ndim for ax in axes]))

    def backward(g: Array) -> tuple[Array]:
        return (np.transpose(g, inverse),)

    return Tensor._make(out, (a,), backward, "transpose")


def getitem(a: Tensor, index: Any) -> Tensor:
    """a[index] (basic slices and integer/boolean arrays).

    ∂out/∂a scatters g back into the selected positions; an element selected several times
    receives the sum of its gradients.
    """
    if isinstance(index, Tensor):
        index = index.data
    basic = _is_basic_index(index)

    def backward(g: Array) -> tuple[Array]:
        grad = np.zeros_like(a.data)
        if basic:  # slices and integers never select an element twice: plain assignment
            grad[index] = g
        else:  # integer arrays may repeat an element: add.at accumulates every occurrence
            np.add.at(grad, index, g)
        return (grad,)

    return Tensor._make(a.data[index], (a,), backward, "getitem")


def _is_basic_index(index: Any) -> bool:
    """True for NumPy 'basic' indices (integers, slices, None, ...), which never repeat."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None
        or i is Ellipsis
        or isinstance(i, slice)
        or (isinstance(i, int | np.integer) and not isinstance(i, bool))
        for i in items
    )


def concatenate(tensors: list[Tensor] | tuple[Tensor, ...], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.  Each input gets its slice of the gradient."""
    ts = tuple(as_tensor(t) for t in tensors)
    sizes = np.cumsum([t.data.shape[axis] for t in ts])[:-1]

    def backward(g: Array) -> tuple[Array, ...]:
        return tuple(np.split(g, sizes, axis=axis))

    return Tensor._make(np.concatenate([t.data for t in ts], axis=axis), ts, backward, "concat")


def stack(tensors: list[Tensor] | tuple[Tensor, ...], axis: int = 0) -> Tensor:
    """Join tensors along a new axis.  Each input gets its slice of the gradient."""
    ts = tuple(as_tensor(t) for t in tensors)

    def backward(g: Array) -> tuple[Array, ...]:
        return tuple(np.moveaxis(g, axis, 0))

    return Tensor._make(np.stack([t.data for t in ts], axis=axis), ts, backward, "stack")


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where condition holds, else b.  ∂out/∂a = [condition], ∂out/∂b = [not condition]."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _pair(a, b)

    def backward(g: Array) -> tuple[Array | None, Array | None]:
        zero = np.zeros((), dtype=g.dtype)
        ga = unbroadcast(np.where(cond, g, zero), a.data.shape) if a.requires_grad else None
        gb = unbroadcast(np.where(cond, zero, g), b.data.shape) if b.requires_grad else None
        return ga, gb

    return Tensor._make(np.where(cond, a.data, b.data), (a, b), backward, "where")
