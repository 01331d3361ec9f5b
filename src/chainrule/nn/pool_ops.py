"""Pooling as ops: max, average and adaptive average over windows of (N, C, *S) inputs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.autograd.tensor import Array, Tensor, as_tensor
from chainrule.fast import conv_kernels
from chainrule.nn.conv_ops import expand, out_size, scatter_windows, windows

__all__ = [
    "adaptive_avg_pool",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool",
    "max_pool1d",
    "max_pool2d",
]


def _spatial(x: Tensor, d: int, what: str) -> None:
    if x.data.ndim != d + 2:
        layout = "(N, C, L)" if d == 1 else "(N, C, H, W)"
        raise ValueError(f"{what} expects input of shape {layout}, got {x.shape}")


def _args(
    d: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any
) -> tuple[tuple[int, ...], ...]:
    kernel = expand(kernel_size, d, "kernel_size")
    stride = kernel if stride is None else expand(stride, d, "stride")
    pad = expand(padding, d, "padding", low=0)
    if any(2 * p > k for p, k in zip(pad, kernel, strict=True)):
        raise ValueError(f"padding {pad} must be at most half the kernel size {kernel}")
    return kernel, stride, pad, expand(dilation, d, "dilation")


def max_pool(
    x: Any, d: int, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1
) -> Tensor:
    """Max pooling over windows of the last `d` axes (stride defaults to the kernel size).

    out[n, c, p] = max_k x̃[n, c, s·p + d·k], x̃ padded with −∞.

    Local derivative: ∂out[p]/∂x[i] = 1 if i is the arg-max of window p, else 0, so the
    backward pass routes δ to the arg-max of each window (adding where windows overlap and
    share it); every other input gets 0.
    """
    x = as_tensor(x)
    _spatial(x, d, f"max_pool{d}d")
    kernel, stride, pad, dilation = _args(d, kernel_size, stride, padding, dilation)
    pads = tuple((p, p) for p in pad)
    X = x.data
    osz = out_size(X.shape[2:], kernel, stride, pads, dilation)
    # The compiled kernel (`chainrule.fast.conv_kernels`): maximum and arg-max in one pass.
    fast = conv_kernels.max_pool_forward(X, kernel, stride, pad, dilation, osz)
    if fast is not None:
        out, at = fast

        def routed(g: Array) -> tuple[Array]:
            return (conv_kernels.max_pool_backward(g, at, X.shape),)

        return Tensor._make(out, (x,), routed, f"max_pool{d}d")
    xp = np.pad(X, ((0, 0), (0, 0), *pads), constant_values=-np.inf) if any(pad) else X
    flat = windows(xp, kernel, stride, dilation).reshape(*X.shape[:2], *osz, math.prod(kernel))
    arg = flat.argmax(axis=-1)  # the first maximum of each window, as PyTorch
    out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]

    def backward(g: Array) -> tuple[Array]:
        # Index of each window's arg-max in the padded input: s·p + d·k per axis.
        offsets = np.unravel_index(arg, kernel)
        grids = np.indices(osz, sparse=True)
        pos = tuple(
            grid * s + off * dl
            for grid, off, s, dl in zip(grids, offsets, stride, dilation, strict=True)
        )
        spatial = np.ravel_multi_index(pos, xp.shape[2:])
        plane = math.prod(xp.shape[2:])
        base = np.arange(X.shape[0] * X.shape[1]).reshape(X.shape[0], X.shape[1], *(1,) * d)
        index = (base * plane + spatial).ravel()
        gxp = np.bincount(index, weights=g.ravel(), minlength=xp.size).reshape(xp.shape)
        crop = tuple(slice(p, p + n) for p, n in zip(pad, X.shape[2:], strict=True))
        return (gxp[(slice(None), slice(None), *crop)].astype(X.dtype, copy=False),)

    return Tensor._make(out, (x,), backward, f"max_pool{d}d")


def avg_pool(
    x: Any,
    d: int,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Average pooling over windows of the last `d` axes (stride defaults to the kernel size).

    out[n, c, p] = (1/m_p) Σ_k x̃[n, c, s·p + k], x̃ zero-padded; m_p is the kernel size K
    (``count_include_pad=True``, PyTorch's default), the number of real inputs in the window
    (False), or ``divisor_override``.

    Local derivative: ∂out[p]/∂x[i] = 1/m_p for every i in window p, so the backward pass
    spreads δ[p]/m_p evenly over the window (adding where windows overlap).
    """
    x = as_tensor(x)
    _spatial(x, d, f"avg_pool{d}d")
    kernel, stride, pad, ones = _args(d, kernel_size, stride, padding, 1)
    pads = tuple((p, p) for p in pad)
    X = x.data
    out_size(X.shape[2:], kernel, stride, pads, ones)  # checks that the output is not empty
    xp = np.pad(X, ((0, 0), (0, 0), *pads)) if any(pad) else X
    axes = tuple(range(-d, 0))
    sums = windows(xp, kernel, stride, ones).sum(axis=axes)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int):
            raise ValueError(
                f"divisor_override must be a positive integer, got {divisor_override!r}"
            )
        if divisor_override < 1:
            raise ValueError(
                f"divisor_override must be a positive integer, got {divisor_override!r}"
            )
        divisor: Any = X.dtype.type(divisor_override)
    elif count_include_pad or not any(pad):
        divisor = X.dtype.type(math.prod(kernel))
    else:  # the real (unpadded) inputs in each window
        mask = np.pad(np.ones((1, 1, *X.shape[2:]), X.dtype), ((0, 0), (0, 0), *pads))
        divisor = windows(mask, kernel, stride, ones).sum(axis=axes)[0, 0]
    out = sums / divisor

    def backward(g: Array) -> tuple[Array]:
        share = np.broadcast_to((g / divisor)[(Ellipsis, *(None,) * d)], (*g.shape, *kernel))
        gxp = scatter_windows(share, xp.shape, kernel, stride, ones)
        crop = tuple(slice(p, p + n) for p, n in zip(pad, X.shape[2:], strict=True))
        return (gxp[(slice(None), slice(None), *crop)],)

    return Tensor._make(out, (x,), backward, f"avg_pool{d}d")


def adaptive_matrix(n_in: int, n_out: int, dtype: Any) -> Array:
    """A (n_out, n_in): row i averages bin i = [⌊i·n/m⌋, ⌈(i+1)·n/m⌉), PyTorch's bins."""
    A = np.zeros((n_out, n_in), dtype=dtype)
    for i in range(n_out):  # one bin per output position (a handful), not per input value
        lo, hi = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        A[i, lo:hi] = 1.0 / (hi - lo)
    return A


def adaptive_avg_pool(x: Any, d: int, output_size: Any) -> Tensor:
    """Adaptive average pooling to a fixed output size; ``output_size=1`` is the global average.

    Per axis it is a linear map A (out, in) whose row i averages PyTorch's bin i, so for images
    out = A_H · x · A_Wᵀ (for each sample and channel); A = (1/L, …, 1/L) for output size 1.

    Local derivative: ∂out/∂x is that linear map, so ∂E/∂x = A_Hᵀ · δ · A_W, which spreads each
    δ evenly over its bin (for the global average, δ/(H·W) to every position).
    """
    x = as_tensor(x)
    _spatial(x, d, f"adaptive_avg_pool{d}d")
    X = x.data
    sizes = (output_size,) * d if not isinstance(output_size, tuple | list) else output_size
    if len(sizes) != d:
        raise ValueError(f"output_size must be an integer or {d} of them, got {output_size!r}")
    sizes = tuple(n if o is None else o for o, n in zip(sizes, X.shape[2:], strict=True))
    sizes = expand(sizes, d, "output_size")
    if d == 1:
        A = adaptive_matrix(X.shape[2], sizes[0], X.dtype)
        out = X @ A.T
    elif d == 2:
        A_h = adaptive_matrix(X.shape[2], sizes[0], X.dtype)
        A = adaptive_matrix(X.shape[3], sizes[1], X.dtype)
        # the global average without the matrices
        out = X.mean(axis=(2, 3), keepdims=True) if sizes == (1, 1) else A_h @ X @ A.T
    else:
        raise ValueError(f"adaptive average pooling supports 1-d and 2-d inputs, got d={d}")

    def backward(g: Array) -> tuple[Array]:
        if d == 1:
            return (g @ A,)
        if sizes == (1, 1):
            return (np.broadcast_to(g / (X.shape[2] * X.shape[3]), X.shape).astype(X.dtype),)
        return (A_h.T @ g @ A,)

    return Tensor._make(out, (x,), backward, f"adaptive_avg_pool{d}d")


# PyTorch's functional spellings (torch.nn.functional.max_pool2d, ...).
def max_pool1d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1
) -> Tensor:
    """`max_pool` of (N, C, L) inputs."""
    return max_pool(x, 1, kernel_size, stride, padding, dilation)


def max_pool2d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1
) -> Tensor:
    """`max_pool` of (N, C, H, W) inputs."""
    return max_pool(x, 2, kernel_size, stride, padding, dilation)


def avg_pool1d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, count_include_pad: bool = True
) -> Tensor:
    """`avg_pool` of (N, C, L) inputs."""
    return avg_pool(x, 1, kernel_size, stride, padding, count_include_pad)


def avg_pool2d(
    x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, count_include_pad: bool = True
) -> Tensor:
    """`avg_pool` of (N, C, H, W) inputs."""
    return avg_pool(x, 2, kernel_size, stride, padding, count_include_pad)


def adaptive_avg_pool1d(x: Any, output_size: Any) -> Tensor:
    """`adaptive_avg_pool` of (N, C, L) inputs."""
    return adaptive_avg_pool(x, 1, output_size)


def adaptive_avg_pool2d(x: Any, output_size: Any) -> Tensor:
    """`adaptive_avg_pool` of (N, C, H, W) inputs."""
    return adaptive_avg_pool(x, 2, output_size)
