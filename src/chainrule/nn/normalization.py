"""`BatchNorm`: batch normalization of the features of (N, C) inputs (Ioffe & Szegedy, 2015)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.autograd.tensor import Array, Tensor, as_tensor
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["BatchNorm"]


class BatchNorm(Module):
    """Batch normalization: each feature made zero-mean, unit-variance over the batch, then
    scaled and shifted by learned γ (``weight``) and β (``bias``).

    In training, for a batch x of shape (N, C), per feature c:

        μ = (1/N) Σₙ xₙ,   σ² = (1/N) Σₙ (xₙ − μ)²   (biased, used to normalize),
        x̂ = (x − μ) / √(σ² + ε),   out = γ x̂ + β,

    and the running statistics, used instead of μ and σ² in evaluation, are updated as in
    PyTorch with m = `momentum`:

        running_mean ← (1 − m) running_mean + m μ,
        running_var  ← (1 − m) running_var  + m σ² N/(N − 1)   (unbiased).

    The backward pass is fused (one graph node); with g = ∂E/∂out,

        ∂E/∂β = Σₙ gₙ,   ∂E/∂γ = Σₙ gₙ x̂ₙ,
        ∂E/∂x = γ/√(σ² + ε) · (g − mean(g) − x̂ mean(g x̂))   (means over the batch),

    the last because μ and σ² depend on every sample of the batch.

    Parameters
    ----------
    num_features : int
        C, the number of features (units) normalized.
    momentum : float
        m in [0, 1], the weight of the current batch in the running statistics.
    eps : float
        ε > 0 added to the variance.
    dtype : dtype
        Of the parameters and buffers (float32 by default).
    """

    def __init__(
        self,
        num_features: int,
        momentum: float = 0.1,
        eps: float = 1e-5,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int | np.integer):
            raise ValueError(f"num_features must be a positive integer, got {num_features!r}")
        if num_features <= 0:
            raise ValueError(f"num_features must be a positive integer, got {num_features!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.num_features = int(num_features)
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.weight = Parameter(np.ones(self.num_features, dtype=dtype))  # γ
        self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))  # β
        self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
        self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))

    def forward(self, x: Any) -> Tensor:
        """Normalize x of shape (N, num_features) with batch (train) or running (eval) stats."""
        x = as_tensor(x)
        if x.data.ndim != 2 or x.data.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm expects input of shape (N, {self.num_features}), got {x.shape}"
            )
        if self.training:
            return self._forward_train(x)
        return self._forward_eval(x)

    def _forward_train(self, x: Tensor) -> Tensor:
        X = x.data
        n = X.shape[0]
        if n < 2:
            raise ValueError(
                "BatchNorm needs more than one sample per batch in training "
                f"(got {n}); use a larger batch or call eval()"
            )
        gamma, beta = self.weight, self.bias
        mu = X.mean(axis=0)
        xhat = X - mu
        var = np.mean(xhat * xhat, axis=0)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat *= inv_std  # x̂, in the buffer of x − μ
        out = xhat * gamma.data + beta.data

        # Running statistics: in place, so views and references to the buffers stay valid.
        m, running_mean, running_var = self.momentum, self.running_mean, self.running_var
        running_mean *= 1.0 - m
        running_mean += m * mu
        running_var *= 1.0 - m
        running_var += (m * n / (n - 1)) * var

        def backward(g: Array) -> tuple[Array | None, Array | None, Array | None]:
            g_beta = g.sum(axis=0)
            g_gamma = (g * xhat).sum(axis=0)
            g_x = None
            if x.requires_grad:
                g_x = (gamma.data * inv_std) * (g - g_beta / n - xhat * (g_gamma / n))
            return (
                g_x,
                g_gamma if gamma.requires_grad else None,
                g_beta if beta.requires_grad else None,
            )

        return Tensor._make(out, (x, gamma, beta), backward, "batch_norm")

    def _forward_eval(self, x: Tensor) -> Tensor:
        X = x.data
        gamma, beta = self.weight, self.bias
        mean = self.running_mean.copy()  # the op must not see later updates of the buffers
        inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
        scale = gamma.data * inv_std
        out = X * scale + (beta.data - mean * scale)  # γ (x − μ_run)/σ_run + β as one affine map

        def backward(g: Array) -> tuple[Array | None, Array | None, Array | None]:
            g_x = g * scale if x.requires_grad else None
            g_gamma = ((g * (X - mean)) * inv_std).sum(axis=0) if gamma.requires_grad else None
            g_beta = g.sum(axis=0) if beta.requires_grad else None
            return g_x, g_gamma, g_beta

        return Tensor._make(out, (x, gamma, beta), backward, "batch_norm")

    def extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
