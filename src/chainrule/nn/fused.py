"""A chain of dense layers and activations as one op: the lecture's backpropagation algorithm.

`Sequential` made only of `Dense` layers, each optionally followed by `ReLU`, `Tanh`,
`Sigmoid` or `Identity` (the multilayer perceptron), runs its forward pass through
`dense_chain`: one node in the graph instead of two per layer. The arithmetic is the same as
the layer-by-layer ops', in the same order, so the gradients are the same numbers (the tests
compare both); what is saved is per-op overhead, and memory, because

* the forward pass applies σ in place: only z⁽ᵏ⁾ = σ(a⁽ᵏ⁾) is kept, never a⁽ᵏ⁾, since each σ′
  here can be written through z⁽ᵏ⁾ (ReLU: [z > 0]; tanh: 1 − z²; sigmoid: z(1 − z));
* the backward pass is the lecture's recursion, with δ⁽ᵏ⁻¹⁾ built in the array that holds
  W⁽ᵏ⁾ᵀδ⁽ᵏ⁾, and ∂E/∂W, ∂E/∂b written straight into flat gradient buffers when there are
  some (`flatten_parameters`).

The layer outputs in between are not visible as tensors (they are not in a `Sequential`
either). Build ``Sequential(..., fuse=False)`` to record every layer as its own op, e.g. to
draw the graph layer by layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from chainrule.autograd import grad_mode
from chainrule.autograd.ops import stable_sigmoid
from chainrule.autograd.tensor import Array, Tensor, as_tensor, grad_destination
from chainrule.nn.functional import weight_gradient

__all__ = ["dense_chain", "plan_chain"]

# (weight, bias or None, activation name or None) for each dense layer
Layer = tuple[Tensor, Tensor | None, str | None]

_KINDS: dict[type, str] | None = None  # module class -> "dense" or an activation name


def _kinds() -> dict[type, str]:
    global _KINDS
    if _KINDS is None:  # imported here: those modules import the package that imports this one
        from chainrule.nn.activations import Identity, ReLU, Sigmoid, Tanh
        from chainrule.nn.dense import Dense

        _KINDS = {Dense: "dense", ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid", Identity: ""}
    return _KINDS


def plan_chain(modules: Iterable[Any]) -> list[Layer] | None:
    """The layers of a chain `dense_chain` can run, or None if the modules are anything else.

    Only these exact classes qualify (a subclass may change `forward`): `Dense`, then at most
    one of `ReLU`, `Tanh`, `Sigmoid`, `Identity` after each `Dense`.
    """
    kinds = _kinds()
    layers: list[Layer] = []
    for m in modules:
        kind = kinds.get(type(m))
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
    z = x.data
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

    zs = [z]  # z⁽⁰⁾ … z⁽ᴷ⁾: each layer's input, then the output
    for W, b, act in layers:
        a = z @ W.data.T
        if b is not None:
            a += b.data
        z = _activate(a, act)
        zs.append(z)

    parents: list[Tensor] = [x]
    for W, b, _ in layers:
        parents.append(W)
        if b is not None:
            parents.append(b)
    if not grad_mode._state.enabled:
        return Tensor._make(z, (), None, "")

    def backward(g: Array) -> tuple[Array | None, ...]:
        grads: list[Array | None] = []  # in reverse order of `parents`
        delta = _times_derivative(g, zs[-1], layers[-1][2], in_place=False)  # g may be shared
        for k in range(len(layers) - 1, -1, -1):
            W, b, _ = layers[k]
            z_in = zs[k]
            same = delta.dtype == dtype
            if b is not None:
                grads.append(
                    np.add.reduce(delta, axis=0, out=grad_destination(b) if same else None)
                    if b.requires_grad
                    else None
                )
            grads.append(
                weight_gradient(delta, z_in, grad_destination(W) if same else None, W.data)
                if W.requires_grad
                else None
            )
            if k == 0:
                grads.append(delta @ W.data if x.requires_grad else None)
            else:  # δ⁽ᵏ⁻¹⁾, written into the new array W⁽ᵏ⁾ᵀδ⁽ᵏ⁾
                delta = _times_derivative(delta @ W.data, z_in, layers[k - 1][2], in_place=True)
        return tuple(reversed(grads))

    return Tensor._make(z, tuple(parents), backward, "dense_chain")


def _activate(a: Array, act: str | None) -> Array:
    """σ(a), in place where NumPy can (a is a fresh array that nothing else holds)."""
    if act == "relu":
        return np.maximum(a, 0, out=a)
    if act == "tanh":
        return np.tanh(a, out=a)
    if act == "sigmoid":
        return stable_sigmoid(a)
    return a


def _times_derivative(g: Array, z: Array, act: str | None, in_place: bool) -> Array:
    """g ∘ σ′(a), with σ′ written through z = σ(a) as the single-layer ops write it."""
    if act == "relu":  # [a > 0] = [z > 0]
        return np.multiply(g, z > 0, out=g if in_place else None)
    if act == "tanh":
        return g * (1 - z * z)
    if act == "sigmoid":
        return g * z * (1 - z)
    return g
