"""The compiled convolution and pooling kernels (numba); imported only by
`chainrule.fast.conv_kernels`.

Inputs come as (N, C, M): each sample's channels with their M = H·W (or L) values flattened.
The windows are given by a table (`conv_kernels.window_table`): ``table[p, k]`` is the flat
index in the input of offset k of the window of output position p, or −1 where that falls on
the padding. So one loop serves every dimension, stride, padding and dilation, with no
arithmetic on coordinates in the inner loop and no padded copy of the input. The loops do the
NumPy code's data movement in one pass, with every sum in the NumPy code's order, so they give
its numbers exactly (max-pool's backward over overlapping windows excepted, see
`max_pool_backward`). ``cache=True`` keeps the machine code between processes; one thread, as
in `_numba_kernels`.
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@jit
def im2col(x, table, cols, zero):
    """cols[n·P + p, c·K + k] = x[n, c, table[p, k]] (`zero` where the table says −1): every
    window as one row of the (N·P, C·K) matrix, written row by row."""
    n_img, n_ch, _ = x.shape
    n_pos, k = table.shape
    for b in range(n_img):
        for p in range(n_pos):
            r = b * n_pos + p
            for c in range(n_ch):
                xc = x[b, c]
                col = c * k
                for q in range(k):
                    at = table[p, q]
                    cols[r, col + q] = xc[at] if at >= 0 else zero


@jit
def col2im(dcols, table, gx):
    """gx ← 0, then every window's row of dcols added back where `im2col` read it (the
    transpose of `im2col`); values that fell on the padding are dropped.

    Kernel offsets run outermost, as `chainrule.nn.conv_ops.scatter_windows` adds them, so
    each input sums its terms in the same order."""
    n_img, n_ch, n_pix = gx.shape
    n_pos, k = table.shape
    for b in range(n_img):
        for c in range(n_ch):
            gc = gx[b, c]
            for i in range(n_pix):
                gc[i] = 0
            for q in range(k):
                col = c * k + q
                for p in range(n_pos):
                    at = table[p, q]
                    if at >= 0:
                        gc[at] += dcols[b * n_pos + p, col]


@jit
def rows_to_channels(rows, bias, out, with_bias):
    """out[n, o, p] = rows[n·P + p, o] (+ bias[o]): the product's (N·P, O) rows as the
    (N, O, P) layout of PyTorch, bias added on the way."""
    n_img, n_out, n_pos = out.shape
    for b in range(n_img):
        for o in range(n_out):
            for p in range(n_pos):
                t = rows[b * n_pos + p, o]
                out[b, o, p] = t + bias[o] if with_bias else t


@jit
def channels_to_rows(g, rows):
    """rows[n·P + p, o] = g[n, o, p]: δ (N, O, P) as the matrix the products need."""
    n_img, n_out, n_pos = g.shape
    for b in range(n_img):
        for p in range(n_pos):
            r = b * n_pos + p
            for o in range(n_out):
                rows[r, o] = g[b, o, p]


@jit
def max_pool_forward(x, table, out, arg, lowest):
    """out[n, c, p] = the largest x[n, c, table[p, k]] over k (`lowest`, −∞, on the padding);
    arg = its index in the input, −1 when it is the padding. Ties and NaN as NumPy's argmax:
    the first maximum, or the first NaN. The choice is a select, not a branch (random data
    would mispredict half of them)."""
    n_img, n_ch, _ = x.shape
    n_pos, k = table.shape
    for b in range(n_img):
        for c in range(n_ch):
            xc = x[b, c]
            for p in range(n_pos):
                where = table[p, 0]
                best = xc[where] if where >= 0 else lowest
                for q in range(1, k):
                    at = table[p, q]
                    t = xc[at] if at >= 0 else lowest
                    take = (t > best) | ((t != t) & (best == best))
                    best = t if take else best
                    where = at if take else where
                out[b, c, p] = best
                arg[b, c, p] = where


@jit
def max_pool_backward(g, arg, gx):
    """gx ← 0, then each δ[n, c, p] added to the input at its window's arg-max (dropped on the
    padding). Exact where windows do not overlap (each input gets at most one term); where
    they do, the terms are summed in the inputs' precision, NumPy's bincount in float64."""
    n_img, n_ch, n_pix = gx.shape
    n_pos = g.shape[2]
    for b in range(n_img):
        for c in range(n_ch):
            gc = gx[b, c]
            for i in range(n_pix):
                gc[i] = 0
            for p in range(n_pos):
                at = arg[b, c, p]
                if at >= 0:
                    gc[at] += g[b, c, p]
