"""A chain of dense layers and activations as one op: the lecture's backpropagation algorithm.

Fast path for: ``for m in sequential: x = m(x)`` over `Dense` (`chainrule.nn.functional.linear`)
and ReLU / tanh / sigmoid / identity layers (`chainrule.autograd.ops`). It must equal that loop,
values and every gradient: ``tests/fast/test_dense_chain.py`` runs both on random inputs (odd
sizes, batch 1, float32 and float64) and compares.

`Sequential` made only of such layers (the multilayer perceptron) says so in the first lines of
its `forward` and runs `dense_chain`: one node in the graph instead of two per layer. The
arithmetic is the same as the layer-by-layer ops', in the same order, so the gradients are
the same numbers (the tests compare both); what is saved is per-op overhead, and memory, because

* the forward pass applies σ in place: only z⁽ᵏ⁾ = σ(a⁽ᵏ⁾) is kept, never a⁽ᵏ⁾, since each σ′
  here can be written through z⁽ᵏ⁾ (ReLU: [z > 0]; tanh: 1 − z²; sigmoid: z(1 − z));
* the backward pass is the lecture's recursion, with δ⁽ᵏ⁻¹⁾ built in the array that holds
  W⁽ᵏ⁾ᵀδ⁽ᵏ⁾, and ∂E/∂W, ∂E/∂b written straight into flat gradient buffers when there are
  some (`chainrule.fast.flat`).

With numba installed (the ``[fast]`` extra), the bias and ReLU of the forward pass, and
σ′ ∘ δ with ∂E/∂b = Σₙ δₙ of the backward pass, are each one compiled pass over the batch
(`chainrule.fast.kernels`), the same numbers as the NumPy calls they replace.

The layer outputs in between are not visible as tensors (they are not in a `Sequential`
either). Build ``Sequential(..., fuse=False)`` to record every layer as its own op, e.g. to
draw the graph layer by layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule.autograd import grad_mode
from chainrule.autograd.ops import derivative_from_output, stable_sigmoid
from chainrule.autograd.tensor import Array, Tensor, as_tensor
from chainrule.fast import kernels
from chainrule.fast.flat import grad_destination

__all__ = ["chain_backward", "chain_forward", "dense_chain", "plan_chain", "weight_gradient"]

# (weight, bias or None, activation name or None) for each dense layer
Layer = tuple[Tensor, Tensor | None, str | None]


def plan_chain(modules: Iterable[Any]) -> list[Layer] | None:
    """The layers of a chain `dense_chain` can run, or None if the modules are anything else.

    A module qualifies when its own class (not a parent class: a subclass may change
    `forward`) declares ``chain_kind``: "dense" (`Dense`: ``weight``, ``bias``), or after each
    dense layer at most one activation, "relu", "tanh", "sigmoid" or "" (identity).
    """
    layers: list[Layer] = []
    for m in modules:
        kind = type(m).__dict__.get("chain_kind")
        if kind is None:
            return None
        if kind == "dense":
            layers.append((m.weight, m.bias, None))
        elif not layers or layers[-1][2] is not None:
            return None  # an activation that does not directly follow a dense layer
        elif kind:
            w, b, _ = layers[-1]
            layers[-1] = (w, b, kind)
    return layers or None


def dense_chain(x: Any, layers: list[Layer]) -> Tensor | None:
    """z⁽ᴷ⁾ for z⁽⁰⁾ = x, a⁽ᵏ⁾ = z⁽ᵏ⁻¹⁾ W⁽ᵏ⁾ᵀ + b⁽ᵏ⁾, z⁽ᵏ⁾ = σₖ(a⁽ᵏ⁾), as one op.

    Returns None (the caller then runs the layers one by one) unless x is a 2-d batch of the
    weights' dtype and every weight is 2-d. With g = ∂E/∂z⁽ᴷ⁾ the backward pass is

        δ⁽ᴷ⁾ = g ∘ σ′_K(a⁽ᴷ⁾)
        ∂E/∂W⁽ᵏ⁾ = δ⁽ᵏ⁾ᵀ z⁽ᵏ⁻¹⁾,   ∂E/∂b⁽ᵏ⁾ = Σₙ δ⁽ᵏ⁾ₙ
        δ⁽ᵏ⁻¹⁾ = (δ⁽ᵏ⁾ W⁽ᵏ⁾) ∘ σ′_{k−1}(a⁽ᵏ⁻¹⁾),   down to ∂E/∂x = δ⁽¹⁾ W⁽¹⁾.
    """
    x = as_tensor(x)
    zs = chain_forward(x.data, layers)
    if zs is None:
        return None
    parents: list[Tensor] = [x]
    for W, b, _ in layers:
        parents.append(W)
        if b is not None:
            parents.append(b)
    if not grad_mode._state.enabled:
        return Tensor._make(zs[-1], (), None, "")

    def backward(g: Array) -> tuple[Array | None, ...]:
        return chain_backward(g, zs, layers, x.requires_grad)

    return Tensor._make(zs[-1], tuple(parents), backward, "dense_chain")


def chain_forward(z: Array, layers: list[Layer]) -> list[Array] | None:
    """The forward pass of `dense_chain` on the array z⁽⁰⁾: [z⁽⁰⁾, z⁽¹⁾, …, z⁽ᴷ⁾] (each layer's
    input, then the output), or None when the chain cannot run on z (see `dense_chain`).

    Without a graph: `chainrule.fast.train_step` calls it (and `chain_backward`) directly.
    """
    dtype = z.dtype
    if z.ndim != 2:
        return None
    n_in = z.shape[1]
    for W, b, _ in layers:
        w = W.data
        if w.ndim != 2 or w.dtype != dtype or w.shape[1] != n_in:
            return None
        if b is not None and (b.data.dtype != dtype or b.data.shape != (w.shape[0],)):
            return None
        n_in = w.shape[0]

    # The compiled kernels, called without their checks: every array handed to them below is
    # a row-major product made here, a contiguous bias or gradient buffer, of this dtype.
    k = kernels.unchecked(dtype)
    zs = [z]  # z⁽⁰⁾ … z⁽ᴷ⁾: each layer's input, then the output
    for W, b, act in layers:
        a = z @ W.data.T  # (a new row-major array)
        bias = None if b is None else b.data
        if k is not None and act in _FUSED and len(a) and (bias is None or bias.flags.contiguous):
            k.bias_relu(a, a[0] if bias is None else bias, act == "relu", bias is not None)
        else:  # NumPy: two passes
            if bias is not None:
                a += bias
            a = _activate(a, act)
        z = a
        zs.append(z)
    return zs


def chain_backward(
    g: Array, zs: list[Array], layers: list[Layer], input_grad: bool
) -> tuple[Array | None, ...]:
    """The backward pass of `dense_chain` for g = ∂E/∂z⁽ᴷ⁾, with `zs` from `chain_forward`:
    (∂E/∂x, ∂E/∂W⁽¹⁾, ∂E/∂b⁽¹⁾, …) in the order of the op's parents (biases only for layers
    that have one; None for what needs no gradient, ∂E/∂x unless `input_grad`). ∂E/∂W and
    ∂E/∂b go straight into the parameters' gradient buffers where `grad_destination` allows.
    """
    dtype = zs[0].dtype
    grads: list[Array | None] = []  # in reverse order of the parents
    # δ⁽ᴷ⁾ and ∂E/∂b⁽ᴷ⁾ (g may be shared: δ goes to a new array)
    # (g comes from outside: checked by the kernel's wrapper; the inner δ are made here)
    delta, db = _delta_and_bias_grad(g, zs[-1], layers[-1], dtype, None)
    compiled = kernels.unchecked(dtype)
    for k in range(len(layers) - 1, -1, -1):
        W, b, _ = layers[k]
        z_in = zs[k]
        same = delta.dtype == dtype
        if b is not None:
            grads.append(db)
        grads.append(
            weight_gradient(delta, z_in, grad_destination(W) if same else None, W.data)
            if W.requires_grad
            else None
        )
        if k == 0:
            grads.append(delta @ W.data if input_grad else None)
        else:  # δ⁽ᵏ⁻¹⁾, written into the new array W⁽ᵏ⁾ᵀδ⁽ᵏ⁾, and ∂E/∂b⁽ᵏ⁻¹⁾
            delta, db = _delta_and_bias_grad(
                delta @ W.data, z_in, layers[k - 1], dtype, compiled, in_place=True
            )
    return tuple(reversed(grads))


_FUSED = (None, "", "relu")  # the activations fused into the forward kernel (see there)


def _activate(a: Array, act: str | None) -> Array:
    """σ(a), in place where NumPy can (a is a fresh array that nothing else holds)."""
    if act == "relu":
        return np.maximum(a, 0, out=a)
    if act == "tanh":
        return np.tanh(a, out=a)
    if act == "sigmoid":
        return stable_sigmoid(a)
    return a


def _delta_and_bias_grad(
    g: Array,
    z: Array,
    layer: Layer,
    dtype: np.dtype[Any],
    k: Any,
    in_place: bool = False,
) -> tuple[Array, Array | None]:
    """(δ, ∂E/∂b) for a layer with output z = σ(a): δ = g ∘ σ′(a), ∂E/∂b = Σₙ δₙ (None when
    the layer has no bias or it needs no gradient), ∂E/∂b written into b's gradient buffer
    when it may be. Compiled, one sweep over g (`chainrule.fast.kernels`); else NumPy's two.

    `k`: the kernel module, to be called without checks (g and z row-major products of this
    op, of `dtype`); None: through the checking wrapper, if the kernels run at all.
    """
    _, b, act = layer
    want_db = b is not None and b.requires_grad
    dest = grad_destination(b) if want_db and g.dtype == dtype else None  # type: ignore[arg-type]
    if k is not None or kernels.loaded():  # (not enabled(): numba may be installed, not loaded)
        out = g if in_place else np.empty(g.shape, g.dtype)
        db = dest if dest is not None or not want_db else np.empty(g.shape[1:], g.dtype)
        if k is not None and len(g) and g.dtype == dtype:  # (a caller's g may be another dtype)
            code, acc = kernels.ACTIVATIONS[act], g[0] if db is None else db
            if in_place:
                k.delta_and_bias_grad_in_place(g, z, acc, code, db is not None)
            else:
                k.delta_and_bias_grad(g, z, out, acc, code, db is not None)
            return out, db
        if kernels.delta_and_bias_grad(g, z, act, out, db):
            return out, db
    delta = _times_derivative(g, z, act, in_place=in_place)
    return delta, np.add.reduce(delta, axis=0, out=dest) if want_db else None


def _times_derivative(g: Array, z: Array, act: str | None, in_place: bool) -> Array:
    """g ∘ σ′(a), with σ′ written through z = σ(a) (`ops.derivative_from_output`, as the
    single-layer ops use it)."""
    if not act:
        return g
    return np.multiply(g, derivative_from_output(act, z), out=g if in_place else None)


def weight_gradient(delta: Array, z: Array, out: Array | None, like: Array) -> Array:
    """∂E/∂W = δᵀ z, in the memory layout of `like` (the weight), into `out` if given.

    Must equal ``delta.T @ z``. For a column-major W (how `Dense` stores it) the product is
    computed as (zᵀ δ)ᵀ, so that BLAS writes a row-major (in, out) result, which is the
    column-major (out, in) ∂E/∂W its gradient buffer expects.
    """
    if like.flags.f_contiguous and not like.flags.c_contiguous:
        return np.matmul(z.T, delta, out=None if out is None else out.T).T
    return np.matmul(delta.T, z, out=out)
