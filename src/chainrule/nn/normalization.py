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
        running_var  ← (1 − m) running_var  + m σ² N/(N − 1)   (unbiased),

    where ``momentum=None`` makes m = 1/t after the t-th training batch (`num_batches_tracked`),
    so the running statistics are the plain averages of the batches' statistics.

    The backward pass is fused (one graph node); with g = ∂E/∂out,

        ∂E/∂β = Σₙ gₙ,   ∂E/∂γ = Σₙ gₙ x̂ₙ,
        ∂E/∂x = γ/√(σ² + ε) · (g − mean(g) − x̂ mean(g x̂))   (means over the batch),

    the last because μ and σ² depend on every sample of the batch.

    Parameters
    ----------
    num_features : int
        C, the number of features (units) or channels normalized.
    momentum : float or None
        m in [0, 1], the weight of the current batch in the running statistics; None for the
        cumulative average.
    eps : float
        ε > 0 added to the variance.
    dtype : dtype
        Of the parameters and buffers (float32 by default).
    affine : bool
        Learn γ and β (``weight``, ``bias``); without them out = x̂.
    track_running_stats : bool
        Keep running statistics (buffers ``running_mean``, ``running_var`` and the batch
        counter ``num_batches_tracked``) for evaluation; without them evaluation normalizes
        with the batch's own statistics too.
    """

    optional_buffers = ("num_batches_tracked",)  # PyTorch loads states without it, too

    def __init__(
        self,
        num_features: int,
        momentum: float | None = 0.1,
        eps: float = 1e-5,
        dtype: npt.DTypeLike = np.float32,
        *,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int | np.integer):
            raise ValueError(f"num_features must be a positive integer, got {num_features!r}")
        if num_features <= 0:
            raise ValueError(f"num_features must be a positive integer, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1] or None, got {momentum}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.num_features = int(num_features)
        self.momentum = None if momentum is None else float(momentum)
        self.eps = float(eps)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        c = self.num_features
        self.register_parameter("weight", Parameter(np.ones(c, dtype=dtype)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(c, dtype=dtype)) if affine else None)
        stats = track_running_stats
        self.register_buffer("running_mean", np.zeros(c, dtype=dtype) if stats else None)
        self.register_buffer("running_var", np.ones(c, dtype=dtype) if stats else None)
        self.register_buffer("num_batches_tracked", np.zeros((), np.int64) if stats else None)

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
        if self.training or not self.track_running_stats:
            return self._forward_train(x)
        return self._forward_eval(x)

    def gamma_beta(self) -> tuple[Array, Array]:
        """γ and β as arrays (ones and zeros without `affine`), e.g. for exporting the layer."""
        if self.weight is None:
            dtype = self.running_mean.dtype if self.running_mean is not None else np.float32
            return np.ones(self.num_features, dtype), np.zeros(self.num_features, dtype)
        return self.weight.data, self.bias.data

    def running_stats(self) -> tuple[Array, Array]:
        """(running mean, running variance), the statistics evaluation uses.

        Raises
        ------
        ValueError
            Without `track_running_stats` (evaluation then normalizes with each batch's own).
        """
        if self.running_mean is None or self.running_var is None:
            raise ValueError(
                f"{type(self).__name__}(track_running_stats=False) has no running statistics: "
                "its evaluation uses each batch's own, which a fixed export cannot"
            )
        return self.running_mean, self.running_var

    @staticmethod
    def _axes(X: Array) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The axes reduced over (all but the channels) and the broadcast shape of γ, β, μ."""
        return (0, *range(2, X.ndim)), (X.shape[1], *(1,) * (X.ndim - 2))

    def _affine(self, out: Array, x: Tensor, backward: Any) -> Tensor:
        """The graph node of out (already γ x̂ + β, or x̂ without `affine`): parents x, γ, β."""
        parents = (x,) if self.weight is None else (x, self.weight, self.bias)
        return Tensor._make(out, parents, backward, "batch_norm")

    def _update_running_stats(self, mu: Array, var: Array, n: int) -> None:
        """The running averages, in place (views and references to the buffers stay valid)."""
        counter = self.num_batches_tracked
        np.add(counter, 1, out=counter)
        m = 1.0 / float(counter) if self.momentum is None else self.momentum
        running_mean, running_var = self.running_mean, self.running_var
        running_mean *= 1.0 - m
        running_mean += m * mu
        running_var *= 1.0 - m
        running_var += (m * n / (n - 1)) * var

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
        if gamma is None:
            out = xhat.copy()  # (x̂ itself is needed by the backward pass)
        else:
            out = xhat * gamma.data.reshape(shape) + beta.data.reshape(shape)
        if self.training and self.track_running_stats:
            self._update_running_stats(mu, var, n)

        def backward(g: Array) -> tuple[Array | None, ...]:
            g_beta = g.sum(axis=axes)
            g_xhat = (g * xhat).sum(axis=axes)  # ∂E/∂γ
            g_x = None
            if x.requires_grad:
                scale = inv_std if gamma is None else gamma.data * inv_std
                g_x = scale.reshape(shape) * (
                    g - (g_beta / n).reshape(shape) - xhat * (g_xhat / n).reshape(shape)
                )
            if gamma is None:
                return (g_x,)
            return (
                g_x,
                g_xhat if gamma.requires_grad else None,
                g_beta if beta.requires_grad else None,
            )

        return self._affine(out, x, backward)

    def _forward_eval(self, x: Tensor) -> Tensor:
        X = x.data
        gamma, beta = self.weight, self.bias
        axes, shape = self._axes(X)
        mean = self.running_mean.copy().reshape(shape)  # not the buffer: it changes later
        inv_std = (1.0 / np.sqrt(self.running_var + self.eps)).reshape(shape)
        scale = inv_std if gamma is None else gamma.data.reshape(shape) * inv_std
        shift = 0.0 if beta is None else beta.data.reshape(shape)
        # γ (x − μ_run)/σ_run + β as one affine map
        out = X * scale + (shift - mean * scale)

        def backward(g: Array) -> tuple[Array | None, ...]:
            g_x = g * scale if x.requires_grad else None
            if gamma is None:
                return (g_x,)
            g_gamma = None
            if gamma.requires_grad:
                g_gamma = ((g * (X - mean)) * inv_std).sum(axis=axes)
            g_beta = g.sum(axis=axes) if beta.requires_grad else None
            return g_x, g_gamma, g_beta

        return self._affine(out, x, backward)

    def extra_repr(self) -> str:
        text = f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
        if not self.affine:
            text += ", affine=False"
        if not self.track_running_stats:
            text += ", track_running_stats=False"
        return text


class BatchNorm1d(BatchNorm):
    """`BatchNorm` of (N, C) features or (N, C, L) signals, as torch.nn.BatchNorm1d (whose
    argument order, eps before momentum, it keeps)."""

    _ndims = (2, 3)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__(
            num_features,
            momentum=momentum,
            eps=eps,
            dtype=dtype,
            affine=affine,
            track_running_stats=track_running_stats,
        )


class BatchNorm2d(BatchNorm1d):
    """`BatchNorm` of the channels of (N, C, H, W) images, as torch.nn.BatchNorm2d."""

    _ndims = (4,)
