"""`BatchNorm` (and `BatchNorm1d`, `BatchNorm2d`): batch normalization (Ioffe & Szegedy, 2015)
of the features of (N, C) inputs, or of the channels of (N, C, L) signals and (N, C, H, W)
images."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.autograd.tensor import Array, Tensor, as_tensor
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["BatchNorm", "BatchNorm1d", "BatchNorm2d"]


class BatchNorm(Module):
    """Batch normalization: each feature made zero-mean, unit-variance over the batch, then
    scaled and shifted by learned γ (``weight``) and β (``bias``).

    In training, for a batch x of shape (N, C), per feature c (for (N, C, *S) inputs, per
    channel c over the batch and every position: N counts all N·|S| values of the channel):

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
        C, the number of features (units) or channels normalized.
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

    _ndims: tuple[int, ...] = (2, 3, 4)  # the input ranks accepted: (N, C), (N, C, L), (N, C, H, W)

    def forward(self, x: Any) -> Tensor:
        """Normalize x of shape (N, num_features, *S) with batch (train) or running (eval) stats."""
        x = as_tensor(x)
        if x.data.ndim not in self._ndims or x.data.shape[1] != self.num_features:
            c = self.num_features
            layouts = {2: f"(N, {c})", 3: f"(N, {c}, L)", 4: f"(N, {c}, H, W)"}
            expected = " or ".join(layouts[d] for d in self._ndims)
            raise ValueError(
                f"{type(self).__name__} expects input of shape {expected}, got {x.shape}"
            )
        if self.training:
            return self._forward_train(x)
        return self._forward_eval(x)

    @staticmethod
    def _axes(X: Array) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The axes reduced over (all but the channels) and the broadcast shape of γ, β, μ."""
        return (0, *range(2, X.ndim)), (X.shape[1], *(1,) * (X.ndim - 2))

    def _forward_train(self, x: Tensor) -> Tensor:
        X = x.data
        n = X.size // X.shape[1]
        if n < 2:
            raise ValueError(
                "BatchNorm needs more than one sample (value per channel) in training "
                f"(got {n}); use a larger batch or call eval()"
            )
        gamma, beta = self.weight, self.bias
        axes, shape = self._axes(X)
        mu = X.mean(axis=axes)
        xhat = X - mu.reshape(shape)
        var = np.mean(xhat * xhat, axis=axes)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat *= inv_std.reshape(shape)  # x̂, in the buffer of x − μ
        out = xhat * gamma.data.reshape(shape) + beta.data.reshape(shape)

        # Running statistics: in place, so views and references to the buffers stay valid.
        m, running_mean, running_var = self.momentum, self.running_mean, self.running_var
        running_mean *= 1.0 - m
        running_mean += m * mu
        running_var *= 1.0 - m
        running_var += (m * n / (n - 1)) * var

        def backward(g: Array) -> tuple[Array | None, Array | None, Array | None]:
            g_beta = g.sum(axis=axes)
            g_gamma = (g * xhat).sum(axis=axes)
            g_x = None
            if x.requires_grad:
                scale = (gamma.data * inv_std).reshape(shape)
                g_x = scale * (
                    g - (g_beta / n).reshape(shape) - xhat * (g_gamma / n).reshape(shape)
                )
            return (
                g_x,
                g_gamma if gamma.requires_grad else None,
                g_beta if beta.requires_grad else None,
            )

        return Tensor._make(out, (x, gamma, beta), backward, "batch_norm")

    def _forward_eval(self, x: Tensor) -> Tensor:
        X = x.data
        gamma, beta = self.weight, self.bias
        axes, shape = self._axes(X)
        mean = self.running_mean.copy().reshape(shape)  # not the buffer: it changes later
        inv_std = (1.0 / np.sqrt(self.running_var + self.eps)).reshape(shape)
        scale = gamma.data.reshape(shape) * inv_std
        # γ (x − μ_run)/σ_run + β as one affine map
        out = X * scale + (beta.data.reshape(shape) - mean * scale)

        def backward(g: Array) -> tuple[Array | None, Array | None, Array | None]:
            g_x = g * scale if x.requires_grad else None
            g_gamma = None
            if gamma.requires_grad:
                g_gamma = ((g * (X - mean)) * inv_std).sum(axis=axes)
            g_beta = g.sum(axis=axes) if beta.requires_grad else None
            return g_x, g_gamma, g_beta

        return Tensor._make(out, (x, gamma, beta), backward, "batch_norm")

    def extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"


class BatchNorm1d(BatchNorm):
    """`BatchNorm` of (N, C) features or (N, C, L) signals, as torch.nn.BatchNorm1d (whose
    argument order, eps before momentum, it keeps)."""

    _ndims = (2, 3)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__(num_features, momentum=momentum, eps=eps, dtype=dtype)


class BatchNorm2d(BatchNorm1d):
    """`BatchNorm` of the channels of (N, C, H, W) images, as torch.nn.BatchNorm2d."""

    _ndims = (4,)
