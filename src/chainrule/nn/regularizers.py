"""Weight penalties added to the loss: E_total = E + λ Ω(W), differentiated by autograd.

Only weights are penalized: the parameters a module lists in ``penalized_parameters``
(``weight`` of `Dense`). Biases and batch-norm's γ and β are left alone: shrinking them does
not make the function smoother, and would only bias the fit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from chainrule.autograd.tensor import Array, Tensor
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["l1_penalty", "l2_penalty", "penalized_weights"]


def penalized_weights(module: Module) -> list[Parameter]:
    """The weights the penalties act on, each once (in ``module.parameters()`` order)."""
    weights: list[Parameter] = []
    seen: set[int] = set()
    for m in module.modules():
        for name in m.penalized_parameters:
            p = m._parameters.get(name)
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                weights.append(p)
    return weights


def _penalty(
    module: Module | Sequence[Parameter],
    lam: float,
    name: str,
    value: Callable[[Array], float],
    grad: Callable[[Array], Array],
) -> Tensor:
    """One fused op over all weights: Ω = lam Σ_W value(W), ∂Ω/∂W = lam · grad(W)."""
    if not lam >= 0:
        raise ValueError(f"{name}: lam must be a non-negative number, got {lam}")
    weights = penalized_weights(module) if isinstance(module, Module) else list(module)
    dtype = weights[0].data.dtype if weights else np.dtype(np.float32)
    if not weights or lam == 0:
        return Tensor._make(np.zeros((), dtype), (), None, "")
    lam = float(lam)
    total = lam * sum(value(w.data) for w in weights)

    def backward(g: Array) -> tuple[Array | None, ...]:
        return tuple((lam * g) * grad(w.data) if w.requires_grad else None for w in weights)

    return Tensor._make(np.asarray(total, dtype), tuple(weights), backward, name)


def l1_penalty(module: Module | Sequence[Parameter], lam: float) -> Tensor:
    """Ω₁ = λ Σ |w| over the weights of `module` (L1: drives weights to exactly 0).

    `module` may also be the list of weights itself (``penalized_weights(module)``, found
    once, e.g. before a training loop, instead of at every step).

    Gradient λ sign(w) (0 at w = 0). Add it to the loss: ``E + l1_penalty(model, lam)``.
    """
    return _penalty(module, lam, "l1_penalty", *PENALTY_TERMS[l1_penalty])


def l2_penalty(module: Module | Sequence[Parameter], lam: float) -> Tensor:
    """Ω₂ = ½ λ Σ w² over the weights of `module` (L2, "weight decay"), or of a list of
    weights as `l1_penalty` takes it.

    With the ½ the gradient is λ w, so adding this penalty to the loss equals an optimizer's
    ``weight_decay=lam`` (which adds λ w to the gradient) on these weights.
    """

    return _penalty(module, lam, "l2_penalty", *PENALTY_TERMS[l2_penalty])


def l1_value(w: Array) -> float:
    """Σ |w| (summed in float64)."""
    return float(np.abs(w).sum(dtype=np.float64))


def half_sq(w: Array) -> float:
    """½ Σ w², summed in the array's memory order (a column-major weight is not copied)."""
    flat = w.ravel(order="K")
    return 0.5 * float(np.dot(flat, flat))


def _identity(w: Array) -> Array:
    return w


#: Each penalty's Ω(w) and ∂Ω/∂w per weight array (Ω = lam Σ_W value(W), ∂Ω/∂W = lam grad(W)),
#: used by the penalties themselves and by code that adds one without a graph (the fused step).
PENALTY_TERMS: dict[
    Callable[..., Tensor], tuple[Callable[[Array], float], Callable[[Array], Array]]
] = {
    l1_penalty: (l1_value, np.sign),
    l2_penalty: (half_sq, _identity),
}
