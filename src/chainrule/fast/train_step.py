"""A training step of a dense chain without a graph: forward, loss, penalties and backward.

Fast path for: ``E = loss(model(x), y) + penalties; E.backward()`` in the training loop
(`chainrule.training.Trainer`), when the model is a fused dense chain (`dense_chain`), the
loss a plain one and the penalties l1/l2. It must equal that: the same E, and the same numbers
in every ``p.grad`` afterwards (where users and callbacks read them):
``tests/training/test_fused_step.py`` trains with both and compares weights and gradients.

The arithmetic is the graph's, call for call: `chain_forward` and `chain_backward` are the two
halves of `dense_chain`, the loss's (E, ∂E/∂ŷ) come from the functions its op uses, and each
penalty's λ ∂Ω/∂w is added to ∂E/∂w in the order the graph sums them. What is saved is the
graph: no tensors, closures, heap or per-step checks of the targets (the trainer checks them
once per epoch), so a small network's step costs little more than its NumPy calls; the
penalty's gradient λw is added straight into the gradient buffer.

What may run here is decided by `chainrule.training.fused`, which knows the modules and losses;
this module only does the arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from chainrule.autograd import grad_mode
from chainrule.autograd.tensor import Array, Tensor
from chainrule.fast.dense_chain import Layer, chain_backward, chain_forward

__all__ = ["DenseStep", "Penalty"]

# (ŷ, y, g) -> (E, ∂E/∂ŷ · g): the loss of a batch and its gradient for the seed g = 1 of
# backward(), as the loss's op computes them (g: a 0-d array of ŷ's dtype)
LossGrad = Callable[[Array, Any, Array], tuple[float, Array]]


class Penalty(NamedTuple):
    """Ω = lam Σ_W value(W) over `weights`, with ∂Ω/∂W = lam · grad(W) (`nn.regularizers`)."""

    lam: float
    value: Callable[[Array], float]
    grad: Callable[[Array], Array]
    weights: Sequence[Tensor]


class DenseStep:
    """``forward(x, y)`` then ``backward()``: one training step's E and gradients, no graph.

    Parameters
    ----------
    layers : list
        The chain, as `plan_chain` gives it.
    loss : callable
        (ŷ, y, g) -> (E, ∂E/∂ŷ for the seed g), for targets already checked.
    penalties : sequence of Penalty
        Added to E in this order (as ``E + Ω₁ + Ω₂``).
    """

    def __init__(self, layers: list[Layer], loss: LossGrad, penalties: Sequence[Penalty]):
        self.layers = layers
        self.loss = loss
        self.penalties = [p for p in penalties if p.lam != 0 and p.weights]
        # The parameters in the order `chain_backward` returns their gradients.
        self.params: list[Tensor] = []
        for W, b, _ in layers:
            self.params.append(W)
            if b is not None:
                self.params.append(b)
        self.output: Array | None = None  # ŷ of the last forward pass
        self._zs: list[Array] = []
        self._g: Array | None = None

    def ready(self) -> bool:
        """The step may run: gradients are recorded, and every parameter wants one and has
        none yet (so writing it equals accumulating it)."""
        return grad_mode._state.enabled and all(
            p.grad is None and p.requires_grad for p in self.params
        )

    def forward(self, x: Array, y: Any) -> float | None:
        """E = loss(ŷ, y) + penalties for the batch, or None when the chain does not take x
        (another dtype or shape: the caller then runs the model itself)."""
        zs = chain_forward(x, self.layers)
        if zs is None:
            return None
        out = zs[-1]
        dtype = out.dtype
        value, g = self.loss(out, y, _seed(dtype))  # ∂E/∂E = 1, as backward() starts
        E = np.asarray(value, dtype)
        for pen in self.penalties:  # in float of ŷ's dtype, as the graph's additions
            E = E + np.asarray(pen.lam * sum(pen.value(w.data) for w in pen.weights), dtype)
        self._zs, self._g, self.output = zs, g, out
        return float(E)

    def backward(self) -> None:
        """Every parameter's ``.grad`` = ∂E/∂w (into its gradient buffer when it has one)."""
        g, zs = self._g, self._zs
        self._g, self._zs = None, []
        grads = chain_backward(g, zs, self.layers, False)[1:]  # type: ignore[arg-type]
        extra = self._penalty_grads(zs[0].dtype)
        for p, grad in zip(self.params, grads, strict=True):
            add = extra.get(id(p))
            if add is not None:  # λ ∂Ω/∂w + ∂E/∂w, the graph's sum (`add` is a new array)
                grad = np.add(add, grad, out=add)
            p._accumulate_grad(grad)  # as backward() ends at a leaf: into its flat buffer, if any

    def _penalty_grads(self, dtype: np.dtype[Any]) -> dict[int, Array]:
        """λ ∂Ω/∂w per weight (by id), summed over the penalties in the graph's order: the
        last-added penalty's node runs first in backward(), so its term comes first."""
        out: dict[int, Array] = {}
        for pen in reversed(self.penalties):
            c = pen.lam * _seed(dtype)  # (lam g, rounded to the dtype as in the penalty's op)
            for w in pen.weights:
                term = c * pen.grad(w.data)
                key = id(w)
                out[key] = term if key not in out else out[key] + term
        return out


_SEEDS: dict[np.dtype[Any], Array] = {}


def _seed(dtype: np.dtype[Any]) -> Array:
    """The 0-d 1 of `dtype` that backward() starts from (kept, read-only)."""
    one = _SEEDS.get(dtype)
    if one is None:
        one = _SEEDS[dtype] = np.ones((), dtype)
        one.flags.writeable = False
    return one
