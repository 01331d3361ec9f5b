"""`Dense` (alias `Linear`): the fully connected layer a⁽ᵏ⁾ = W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from chainrule.autograd.tensor import Tensor
from chainrule.nn import functional as F
from chainrule.nn.init import Initializer, get_initializer
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.rng import Seed, as_generator

__all__ = ["Dense", "Linear"]


class Dense(Module):
    """Fully connected layer, the lecture's a⁽ᵏ⁾ = W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾.

    ``weight`` is W⁽ᵏ⁾ of shape (out_features, in_features) = (N_k, N_{k−1}): wᵢⱼ connects unit j
    of the previous layer to unit i of this one. A batch holds one sample per row, so the layer
    computes ``a = z @ W.T + b`` (each row is W z + b), as one fused op (`functional.linear`).

    Backpropagation: after ``E.backward()`` the gradient that reaches the output a is the
    lecture's δ⁽ᵏ⁾ = ∂E/∂a⁽ᵏ⁾ (one row per sample), and the layer produces

        ∂E/∂W⁽ᵏ⁾ = δ⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ᵀ  (summed over the batch: ``delta.T @ z``),
        ∂E/∂b⁽ᵏ⁾ = δ⁽ᵏ⁾           (summed over the batch),
        ∂E/∂z⁽ᵏ⁻¹⁾ = W⁽ᵏ⁾ᵀ δ⁽ᵏ⁾    (``delta @ W``), which the activation below turns into
        δ⁽ᵏ⁻¹⁾ = W⁽ᵏ⁾ᵀ δ⁽ᵏ⁾ ∘ σ′(a⁽ᵏ⁻¹⁾), the lecture's recursion.

    Parameters
    ----------
    in_features, out_features : int
        N_{k−1} and N_k.
    bias : bool
        Learn b (initialized to zeros). Without it a = W z, as in the lecture's tutorial.
    init : str or callable
        Weight initializer: a name in `chainrule.nn.init.INITIALIZERS` ("xavier_uniform",
        "he_normal", "zeros", ...) or a function ``init(shape, rng, dtype) -> ndarray``.
    rng : int, numpy.random.Generator or None
        Randomness for the initializer (None: the default generator seeded by `cr.set_seed`).
    dtype : dtype
        float32 by default; float64 for gradient checks. Feed inputs of the same dtype: NumPy
        computes a float32 weight times a float64 input in (slower) float64.
    """

    penalized_parameters: ClassVar[tuple[str, ...]] = ("weight",)

    #: `chainrule.fast.dense_chain` may run this layer inside a fused chain.
    chain_kind: ClassVar[str] = "dense"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Initializer = "xavier_uniform",
        rng: Seed = None,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
                raise ValueError(f"{name} must be a positive integer, got {n!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        initializer = get_initializer(init)
        shape = (self.out_features, self.in_features)
        w = np.asarray(initializer(shape, as_generator(rng), dtype))
        if w.shape != shape:
            raise ValueError(f"initializer returned shape {w.shape}, expected {shape}")
        # Stored column-major: W.T, which a = z Wᵀ + b multiplies by, is then a row-major
        # (in, out) matrix, the layout BLAS multiplies fastest (~8% less time per training
        # step of an MNIST-sized network). The shape and the values are the same.
        self.weight = Parameter(np.asfortranarray(w, dtype=dtype))
        bias_param = Parameter(np.zeros(self.out_features, dtype=dtype)) if bias else None
        self.register_parameter("bias", bias_param)

    def forward(self, z: Any) -> Tensor:
        """a = z @ W.T + b for z of shape (N, in_features); returns (N, out_features)."""
        return F.linear(z, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


Linear = Dense
