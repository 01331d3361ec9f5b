"""Convolution as one op: im2col (a strided view, copied) times the weights (a GEMM), per block.

Inputs are laid out as in PyTorch: x of shape (N, C, *S) with S = (L,) for signals and (H, W)
for images, weights (O, C, *K). The argument helpers here (`expand`, `out_size`, `windows`)
are shared with the pooling ops (`chainrule.nn.pool_ops`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from chainrule.autograd.tensor import Array, Tensor, as_tensor
from chainrule.fast import conv_kernels

__all__ = ["conv", "conv1d", "conv2d", "expand", "out_size", "pad_pairs", "windows"]

Pads = tuple[tuple[int, int], ...]

#: Numbers in one block of the im2col matrix (128 KiB of float32): with the compiled kernels
#: a convolution builds that matrix a block of images at a time, forward and backward, so its
#: memory does not grow with the batch.
BLOCK = 1 << 15


def expand(value: Any, d: int, name: str, low: int = 1) -> tuple[int, ...]:
    """An int or a sequence of `d` ints (PyTorch's ``_single``/``_pair``), each >= `low`."""
    items = (value,) * d if isinstance(value, int | np.integer) else tuple(value)
    if len(items) != d or any(
        isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low for v in items
    ):
        raise ValueError(f"{name} must be an integer >= {low} or {d} of them, got {value!r}")
    return tuple(int(v) for v in items)


def pad_pairs(
    padding: Any, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> Pads:
    """(before, after) zero padding per spatial axis from PyTorch's ``padding`` argument.

    ``"valid"`` is no padding; ``"same"`` (stride 1 only, as in PyTorch) pads d·(k − 1) in
    total per axis, the odd one after, so the output has the input's size.
    """
    d = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding != "same":
            raise ValueError(f"padding must be 'valid', 'same' or integers, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError("padding='same' needs stride 1 (as in PyTorch)")
        totals = [dl * (k - 1) for k, dl in zip(kernel, dilation, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in expand(padding, d, "padding", low=0))


def out_size(
    size: Sequence[int],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: Pads,
    dilation: tuple[int, ...],
) -> tuple[int, ...]:
    """Output length per axis: ⌊(L + p_before + p_after − d·(k − 1) − 1) / s⌋ + 1."""
    out = tuple(
        (n + lo + hi - dl * (k - 1) - 1) // s + 1
        for n, k, s, (lo, hi), dl in zip(size, kernel, stride, pads, dilation, strict=True)
    )
    if any(o < 1 for o in out):
        raise ValueError(
            f"input of spatial size {tuple(size)} is too small for kernel {kernel} with "
            f"dilation {dilation} and padding {pads}: the output would be empty"
        )
    return out


def windows(
    xp: Array, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> Array:
    """The read-only view (N, C, *out, *kernel) of every window of the padded input xp."""
    d = len(kernel)
    span = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel, dilation, strict=True))
    view = sliding_window_view(xp, span, axis=tuple(range(2, 2 + d)))
    step = tuple(slice(None, None, s) for s in stride) + tuple(
        slice(None, None, dl) for dl in dilation
    )
    return view[(slice(None), slice(None), *step)]


def scatter_windows(
    cols: Array,
    padded_shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Array:
    """col2im, the transpose of `windows`: add each window's values back where they came from.

    ``cols`` has shape (N, C, *out, *kernel); the loop runs over the kernel offsets (9 for a
    3×3 kernel), each adding one strided slice, never over pixels.
    """
    d = len(kernel)
    osz = cols.shape[2 : 2 + d]
    out = np.zeros(padded_shape, dtype=cols.dtype)
    for k in itertools.product(*(range(n) for n in kernel)):
        region = tuple(
            slice(ki * dl, ki * dl + s * (o - 1) + 1, s)
            for ki, dl, s, o in zip(k, dilation, stride, osz, strict=True)
        )
        out[(slice(None), slice(None), *region)] += cols[(Ellipsis, *k)]
    return out


def _padded_windows(
    X: Array,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: Pads,
    dilation: tuple[int, ...],
) -> Array:
    """The windows (N, C, *out, *kernel) of X zero-padded by `pads`: a view (of a padded copy
    when there is padding)."""
    xp = np.pad(X, ((0, 0), (0, 0), *pads)) if any(lo or hi for lo, hi in pads) else X
    return windows(xp, kernel, stride, dilation)


def _window_rows(view: Array, out: Array | None = None) -> Array:
    """The im2col rows of a windows view (M, C, *out, *kernel): (M·P, C·K), one row per
    (sample, output position), columns (c, k) as W.reshape(O, C·K); copied into `out` (a
    C-contiguous (M·P, C·K) array) when given."""
    d = (view.ndim - 2) // 2
    order = (0, *range(2, 2 + d), 1, *range(2 + d, 2 + 2 * d))
    rows = view.transpose(order)  # (M, *out, C, *kernel)
    if out is None:
        return np.ascontiguousarray(rows).reshape(-1, math.prod(view.shape[1:2] + view.shape[-d:]))
    np.copyto(out.reshape(rows.shape), rows)
    return out


def _im2col(
    X: Array,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: Pads,
    dilation: tuple[int, ...],
    P: int,
) -> Array:
    """im2col in NumPy: one row per (sample, output position) of the zero-padded X, columns
    (c, k) as W.reshape(O, C·K)."""
    return _window_rows(_padded_windows(X, kernel, stride, pads, dilation)).reshape(
        X.shape[0] * P, -1
    )


def _col2im(
    dcols: Array,
    shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: Pads,
    dilation: tuple[int, ...],
    osz: tuple[int, ...],
) -> Array:
    """The transpose of `_im2col` in NumPy: ∂E/∂x from ∂E/∂cols (N·P, C·K), padding cropped."""
    d = len(kernel)
    n, c = shape[:2]
    windows_ = np.moveaxis(dcols.reshape(n, *osz, c, *kernel), 1 + d, 1)  # (N, C, *out, *K)
    padded = (n, c, *(s + lo + hi for s, (lo, hi) in zip(shape[2:], pads, strict=True)))
    gxp = scatter_windows(windows_, padded, kernel, stride, dilation)
    crop = tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, shape[2:], strict=True))
    return gxp[(slice(None), slice(None), *crop)]


def image_blocks(n: int, per_image: int) -> list[slice]:
    """The n images in blocks of as many as fit `BLOCK` numbers of im2col (at least one each)."""
    step = max(1, BLOCK // max(per_image, 1))
    return [slice(i, min(i + step, n)) for i in range(0, max(n, 1), step)]


def _check_input(x: Tensor, d: int, channels: int, what: str) -> None:
    if x.data.ndim != d + 2 or x.data.shape[1] != channels:
        layout = "(N, C, L)" if d == 1 else "(N, C, H, W)"
        raise ValueError(
            f"{what} expects input of shape {layout} with C = {channels}, got {x.shape}"
        )


def conv(
    x: Any,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> Tensor:
    """Convolution of x (N, C, *S) with W (O, C, *K) plus b (O,): the deep-learning kind, a
    cross-correlation (the kernel is not flipped).

    out[n, o, p] = b[o] + Σ_c Σ_k W[o, c, k] · x̃[n, c, s·p + d·k] for every output position p
    and kernel offset k, where x̃ is x zero-padded, s the stride and d the dilation. Computed
    as im2col (every window copied once into a row of a matrix, from a `sliding_window_view`)
    times the weight matrix (O, C·K): a GEMM. With the compiled kernels
    (`chainrule.fast.conv_kernels`) both passes do this a block of images at a time (at most
    `BLOCK` numbers of im2col, one buffer rewritten block after block) and the backward pass
    rebuilds each block from x, so the graph keeps no im2col matrix (as PyTorch's CPU
    convolution); on NumPy, whose im2col costs as much as the products, the whole batch's
    matrix is built once and kept for the backward pass.

    Local derivatives, with δ = ∂E/∂out (the lecture's δ of this layer):

    ∂E/∂W[o, c, k] = Σ_n Σ_p δ[n, o, p] · x̃[n, c, s·p + d·k], a correlation of the input with δ
    (a GEMM, δᵀ · im2col); ∂E/∂b[o] = Σ_n Σ_p δ[n, o, p]; ∂E/∂x̃[n, c, i] = Σ_o Σ_k
    W[o, c, k] · δ[n, o, (i − d·k)/s] (where that is an integer output position), the full
    convolution of δ (dilated by s) with the flipped kernel, computed as δ · W (a GEMM)
    scattered back onto the windows (col2im); ∂E/∂x crops the padding off ∂E/∂x̃.
    """
    x = as_tensor(x)
    W = weight.data
    d = W.ndim - 2
    if d < 1:
        raise ValueError(f"conv needs a weight of shape (O, C, *kernel), got {W.shape}")
    _check_input(x, d, W.shape[1], f"conv{d}d")
    kernel = W.shape[2:]
    stride = expand(stride, d, "stride")
    dilation = expand(dilation, d, "dilation")
    pads = pad_pairs(padding, kernel, stride, dilation)
    X = x.data
    n, c = X.shape[:2]
    n_out = W.shape[0]
    osz = out_size(X.shape[2:], kernel, stride, pads, dilation)
    P, K = math.prod(osz), math.prod(kernel)
    if bias is not None and bias.data.shape != (n_out,):
        raise ValueError(f"bias has shape {bias.data.shape}, expected ({n_out},)")

    # The compiled kernels (`chainrule.fast.conv_kernels`) do the data movement in one pass
    # each, with the same numbers; None: they are not loaded, NumPy does it. (They need only
    # the padding before each axis: what lies past the input's end is padding.)
    low = tuple(lo for lo, _ in pads)
    # With the kernels, im2col is cheap next to the products: both passes build the matrix a
    # block of images at a time and the graph keeps none of it. On NumPy it costs as much as
    # the products, so it runs once, on the whole batch, and the graph keeps the matrix.
    compiled = conv_kernels.running(X.dtype)
    blocks = image_blocks(n, P * c * K) if compiled else [slice(0, n)]
    # Scratch arrays of one pass, the first block's size (no block is longer than the first):
    # the im2col rows, and their product with W or δ; NumPy's windows of the padded input.
    scratch: dict[str, Array] = {}

    def im2col(part: slice) -> Array:
        """The im2col rows of the images `part`, (rows, C·K)."""
        Xb = X[part]
        into = scratch["cols"][: len(Xb) * P] if "cols" in scratch else None
        cols = conv_kernels.im2col(Xb, kernel, stride, low, dilation, osz, into)
        if cols is None:
            if "windows" not in scratch:
                scratch["windows"] = _padded_windows(X, kernel, stride, pads, dilation)
            cols = _window_rows(scratch["windows"][part], into)
        scratch.setdefault("cols", cols)
        return cols

    def product(a: Array, b: Array) -> Array:
        """a @ b, written over the previous block's product."""
        if "product" in scratch and scratch["product"].dtype == np.result_type(a, b):
            return np.matmul(a, b, out=scratch["product"][: len(a)])
        scratch["product"] = a @ b
        return scratch["product"]

    Wm = W.reshape(n_out, c * K)
    b = None if bias is None else bias.data
    if compiled:
        result = np.empty((n, n_out, P), np.result_type(X.dtype, W.dtype))
        for part in blocks:
            out = product(im2col(part), Wm.T)  # (rows, O): one GEMM per block
            if conv_kernels.rows_to_channels(out, b, len(out) // P, P, result[part]) is None:
                if b is not None:
                    out += b
                result[part] = np.moveaxis(out.reshape(-1, P, n_out), -1, 1)
        result = result.reshape(n, n_out, *osz)
        kept = None  # backward rebuilds the matrix block by block
    else:
        kept = im2col(blocks[0])  # the whole batch's matrix, kept for the backward pass
        out = kept @ Wm.T  # (N·P, O)
        if b is not None:
            out += b
        # (N, *out, O) -> (N, O, *out): a transposed view, no copy.
        result = np.moveaxis(out.reshape(n, *osz, n_out), -1, 1)
    scratch.clear()
    parents = (x, weight) if bias is None else (x, weight, bias)

    def backward(g: Array) -> tuple[Array | None, ...]:
        gW = gb = gx = None
        # The size of the whole im2col matrix counts once toward the kernels' `LOAD_AFTER`.
        work = n * P * c * K
        for part in blocks:
            gp = g[part]
            gm = conv_kernels.channels_to_rows(gp, work=work)
            work = 0
            if gm is None:  # δ as a matrix, rows like the im2col rows
                gm = np.moveaxis(gp, 1, -1).reshape(-1, n_out)
            if weight.requires_grad:
                term = gm.T @ (im2col(part) if kept is None else kept)
                gW = term if gW is None else np.add(gW, term, out=gW)
            if x.requires_grad:
                dcols = product(gm, Wm)  # ∂E/∂cols of this block, (rows, C·K)
                if gx is None:
                    gx = np.empty(X.shape, dcols.dtype)
                gxp = gx[part]
                if (
                    conv_kernels.col2im(dcols, gxp.shape, kernel, stride, low, dilation, osz, gxp)
                    is None
                ):
                    gxp[...] = _col2im(dcols, gxp.shape, kernel, stride, pads, dilation, osz)
            if bias is not None and bias.requires_grad:
                term = np.add.reduce(gm, axis=0)
                gb = term if gb is None else np.add(gb, term, out=gb)
        scratch.clear()
        gW = None if gW is None else gW.reshape(W.shape)
        return (gx, gW) if bias is None else (gx, gW, gb)

    return Tensor._make(result, parents, backward, f"conv{d}d")


def conv1d(
    x: Any,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> Tensor:
    """1-d convolution of x (N, C, L) with W (O, C, k), as `torch.nn.functional.conv1d`."""
    if weight.data.ndim != 3:
        raise ValueError(f"conv1d needs a weight of shape (O, C, k), got {weight.data.shape}")
    return conv(x, weight, bias, stride, padding, dilation)


def conv2d(
    x: Any,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> Tensor:
    """2-d convolution of x (N, C, H, W) with W (O, C, kh, kw), as `torch.nn.functional.conv2d`."""
    if weight.data.ndim != 4:
        raise ValueError(f"conv2d needs a weight of shape (O, C, kh, kw), got {weight.data.shape}")
    return conv(x, weight, bias, stride, padding, dilation)
