"""`Dropout`: inverted dropout (Srivastava et al., 2014)."""

from __future__ import annotations

from typing import Any

from chainrule.autograd.tensor import Tensor
from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.rng import Seed, as_generator

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each unit with probability `rate` in training; the identity in evaluation.

    The lecture keeps each neuron active with probability p, so p = 1 − ``rate``. The
    survivors are scaled by 1/p ("inverted" dropout): out = z ∘ m / p with mᵢ ~ Bernoulli(p),
    so E[out] = z, and evaluation (``model.eval()``) needs no rescaling. A new mask is drawn
    for every forward pass; the backward pass multiplies by the same m / p.

    Parameters
    ----------
    rate : float
        Fraction of units dropped, in [0, 1).
    rng : int, numpy.random.Generator or None
        Source of the masks. An int or generator gives this layer its own stream; None draws
        from the library's default generator at each call (so `cr.set_seed` governs it).
    """

    def __init__(self, rate: float = 0.5, rng: Seed = None) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.rng = None if rng is None else as_generator(rng)

    def forward(self, z: Any) -> Tensor:
        return F.dropout(z, self.rate, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"
