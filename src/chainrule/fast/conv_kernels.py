"""Compiled convolution and pooling kernels (numba, the ``[fast]`` extra), and when to load them.

Fast path for the data movement of `chainrule.nn.conv_ops.conv` and
`chainrule.nn.pool_ops.max_pool`, which on small images costs more than the matrix products:

* `im2col`: the padded windows copied into the (N·P, C·K) matrix in one pass (NumPy: `np.pad`,
  a `sliding_window_view` and a copy of its 6-d transpose);
* `col2im`: the backward scatter of (N·P, C·K) onto the input, padding dropped (NumPy: a zero
  padded array, one strided add per kernel offset, a crop);
* `rows_to_channels` / `channels_to_rows`: the product's (N·P, O) rows to PyTorch's
  (N, O, *S) layout with the bias added, and δ back (NumPy: a transposed view, a copy);
* `max_pool_forward` / `max_pool_backward`: each window's maximum and arg-max in one pass, and
  δ routed to the arg-max (NumPy: windows, argmax, take_along_axis; a bincount).

`im2col`, `col2im` and `rows_to_channels` write into a given array when asked (`out`), so a
convolution reuses one block buffer across the blocks of a batch; `running` says whether the
kernels run now, which decides whether a convolution works in blocks (see `conv_ops.conv`).

They give the NumPy code's numbers exactly (the sums in its order), except max-pool's backward
over overlapping windows, which sums in the input's precision where NumPy's bincount uses
float64 (``tests/fast/test_conv_kernels.py``). Since the matrix products are the same BLAS
calls on the same matrices, a convolution gives the same numbers with and without them.

Each function returns None when it cannot run — kernels off or numba missing, a dtype other
than float32/float64 — and the caller runs its NumPy code (`max_pool_backward` excepted: it
follows a `max_pool_forward` that ran).

When numba is loaded: loading it costs about 0.5–0.7 s per process (the import and the first
call of a cached kernel, see `chainrule.fast.kernels`), which a short job does not earn back.
The rule is the ski-rental one: the NumPy code runs until the convolutions' backward passes
(training) of this process have moved `LOAD_AFTER` numbers through im2col (about as long on
NumPy as loading takes: measured, 2²⁴ numbers are 0.3–0.75 s of NumPy training, about four
epochs of `benchmarks/w4_conv.py`'s digits CNN or three of its 1-d one); then the kernels are
loaded and used from there on, so a job pays at most about twice what it would with the best
choice made in advance. They are used at once when numba is loaded already (the optimizer
kernels of `chainrule.fast.kernels`, `set_enabled(True)`, `use_kernels(True)`). A model that
only predicts never loads them.
"""

from __future__ import annotations

import functools
import math
from types import ModuleType

import numpy as np

from chainrule.autograd.tensor import Array
from chainrule.fast import kernels

__all__ = [
    "LOAD_AFTER",
    "channels_to_rows",
    "col2im",
    "im2col",
    "max_pool_backward",
    "max_pool_forward",
    "rows_to_channels",
    "running",
    "window_table",
]

#: Numbers moved through im2col by NumPy (backward passes only) before numba is loaded.
LOAD_AFTER = 1 << 24
_module: ModuleType | None = None
_work = 0  # numbers moved by NumPy so far (see the module docstring)
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _conv(work: int = 0) -> ModuleType | None:
    """The kernel module, or None: NumPy runs. `work` (> 0 only from a backward pass) counts
    toward `LOAD_AFTER`."""
    global _module, _work
    if not kernels._enabled or kernels._missing:
        return None
    if _module is not None:
        return _module
    if kernels._module is None:  # numba not loaded: load only once NumPy has cost as much
        _work += work
        if work == 0 or _work < LOAD_AFTER:
            return None
    try:
        from chainrule.fast import _numba_conv
    except ImportError:  # numba is not installed: the NumPy code runs
        kernels._missing = True
        return None
    _module = _numba_conv
    return _module


def running(dtype: np.dtype) -> bool:
    """Whether the kernels run now for arrays of `dtype`: loaded, on, and a float32/float64
    dtype. (Asking does not count toward `LOAD_AFTER`.)"""
    return np.dtype(dtype) in _DTYPES and _conv() is not None


@functools.lru_cache(maxsize=16)  # a network has a few geometries; tables grow with images
def window_table(
    size: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: tuple[int, ...],
    dilation: tuple[int, ...],
    osz: tuple[int, ...],
) -> Array:
    """(P, K) table: the flat index, in an input of spatial `size`, of offset k of the window
    of output position p, i.e. of x̃[s·p + d·k] with x̃ padded by `pads` before each axis;
    −1 where that is padding (before the input or past its end). Read-only, cached."""
    d = len(size)
    index = np.zeros((1,) * (2 * d), dtype=np.intp)
    inside = np.ones((1,) * (2 * d), dtype=bool)
    for a in range(d):
        shape_p = [1] * (2 * d)
        shape_k = [1] * (2 * d)
        shape_p[a], shape_k[d + a] = osz[a], kernel[a]
        pos = (np.arange(osz[a]) * stride[a]).reshape(shape_p)
        pos = pos + (np.arange(kernel[a]) * dilation[a]).reshape(shape_k) - pads[a]
        inside = inside & (pos >= 0) & (pos < size[a])
        index = index * size[a] + pos
    table = np.where(inside, index, -1).reshape(math.prod(osz), math.prod(kernel))
    table.setflags(write=False)
    return table


def _plane(x: Array) -> Array:
    """(N, C, *S) as (N, C, M): a view when the layout allows, else a copy."""
    # M spelled out: -1 cannot be inferred for an empty batch (N = 0)
    return x.reshape(*x.shape[:2], math.prod(x.shape[2:]))


def im2col(
    x: Array,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: tuple[int, ...],
    dilation: tuple[int, ...],
    osz: tuple[int, ...],
    out: Array | None = None,
) -> Array | None:
    """The (N·P, C·K) im2col matrix of x (N, C, *S) zero-padded by `pads` before each axis
    (what lies past the end is padding too), rows (n, p) and columns (c, k) in C order,
    written into `out` (C-contiguous, of x's dtype) when given; or None (the caller's NumPy)."""
    k = _conv()
    if k is None or x.dtype not in _DTYPES:
        return None
    table = window_table(x.shape[2:], kernel, stride, pads, dilation, osz)
    n, c = x.shape[:2]
    shape = (n * table.shape[0], c * table.shape[1])
    cols = np.empty(shape, dtype=x.dtype) if out is None else out.reshape(shape)
    k.im2col(_plane(x), table, cols, x.dtype.type(0))
    return cols


def col2im(
    dcols: Array,
    shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: tuple[int, ...],
    dilation: tuple[int, ...],
    osz: tuple[int, ...],
    out: Array | None = None,
) -> Array | None:
    """∂E/∂x (`shape`, unpadded) from ∂E/∂cols (N·P, C·K): the transpose of `im2col`;
    written into `out` (C-contiguous, of dcols' dtype) when given."""
    k = _conv()
    if k is None or dcols.dtype not in _DTYPES:
        return None
    table = window_table(tuple(shape[2:]), kernel, stride, pads, dilation, osz)
    gx = np.empty(shape, dtype=dcols.dtype) if out is None else out
    k.col2im(np.ascontiguousarray(dcols), table, _plane(gx))
    return gx


def rows_to_channels(
    rows: Array, bias: Array | None, n: int, n_pos: int, out: Array | None = None
) -> Array | None:
    """(N·P, O) rows (+ bias (O,)) as a contiguous (N, O, P) array (`out`, C-contiguous, of
    the rows' dtype, when given); or None."""
    k = _conv()
    if k is None or rows.dtype not in _DTYPES or (bias is not None and bias.dtype != rows.dtype):
        return None
    if out is None:
        out = np.empty((n, rows.shape[1], n_pos), dtype=rows.dtype)
    no_bias = np.zeros(rows.shape[1], rows.dtype)[:0]  # (unused, typed like a bias)
    k.rows_to_channels(rows, no_bias if bias is None else bias, out, bias is not None)
    return out


def channels_to_rows(g: Array, work: int = 0) -> Array | None:
    """δ (N, O, *S) as the contiguous (N·P, O) matrix; or None. The backward pass passes the
    size of its im2col matrix as `work` (toward `LOAD_AFTER`)."""
    k = _conv(work)
    if k is None or g.dtype not in _DTYPES:
        return None
    g3 = _plane(g)
    rows = np.empty((g3.shape[0] * g3.shape[2], g3.shape[1]), dtype=g.dtype)
    k.channels_to_rows(g3, rows)
    return rows


def max_pool_forward(
    x: Array,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pads: tuple[int, ...],
    dilation: tuple[int, ...],
    osz: tuple[int, ...],
) -> tuple[Array, Array] | None:
    """(the maximum of each window, its flat index in the input plane or −1 on the padding),
    both (N, C, *out); or None."""
    k = _conv()
    if k is None or x.dtype not in _DTYPES:
        return None
    table = window_table(x.shape[2:], kernel, stride, pads, dilation, osz)
    n, c = x.shape[:2]
    out = np.empty((n, c, *osz), dtype=x.dtype)
    arg = np.empty((n, c, *osz), dtype=np.intp)
    k.max_pool_forward(_plane(x), table, _plane(out), _plane(arg), x.dtype.type(-np.inf))
    return out, arg


def max_pool_backward(g: Array, arg: Array, shape: tuple[int, ...]) -> Array:
    """∂E/∂x (`shape`) with each δ added at its window's arg-max (from `max_pool_forward`,
    so the kernels are loaded: they run even if switched off since, `arg` being theirs)."""
    k = _module
    if k is None:
        raise RuntimeError("max_pool_backward needs the arg-max of max_pool_forward")
    gx = np.empty(shape, dtype=g.dtype)
    k.max_pool_backward(_plane(np.ascontiguousarray(g)), _plane(arg), _plane(gx))
    return gx
