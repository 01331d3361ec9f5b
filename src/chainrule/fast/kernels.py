"""Compiled fused kernels (numba, the optional ``[fast]`` extra), and the switch to NumPy.

Fast path for: the NumPy code of `chainrule.fast.updates` (the optimizers' in-place steps),
`chainrule.fast.dense_chain` (bias + activation forward; σ′ ∘ δ and ∂E/∂b backward) and
`chainrule.nn.losses.cross_entropy` (softmax, −log p_y and p − onehot(y)). A NumPy call is one
pass over memory, so Adam's step alone is a dozen passes over every parameter; each kernel
here does its whole formula in one pass. ``tests/fast/test_kernels.py`` runs every kernel
against the NumPy code it replaces (float32 and float64, odd sizes, a batch of 1), and the
tests of those modules run with the kernels on and off.

Every function returns False (or None) without touching anything when it cannot run — numba
missing or switched off, or arrays it does not handle (another dtype, not contiguous) — and
the caller then runs its NumPy code. So the core needs only NumPy; with
``pip install chainrule[fast]`` the kernels are used, unless the environment variable
``CHAINRULE_NO_NUMBA=1`` (read at import) or `set_enabled(False)` switches them off.
(Two exceptions to the checks, for calls repeated every step on arrays whose layout is known:
`unchecked` hands `dense_chain` the kernels themselves.)
numba is imported, and each kernel compiled, on first use; the machine code is cached on disk.
Loading them costs about 0.5–0.7 s per process on a 2-core machine (numba's import ~0.25 s, then
~0.3–0.4 s at the first call of a kernel, whose machine code comes from the disk cache), about
what scikit-learn takes for a whole MLP fit on digits; a small job (`chainrule info`'s check of
a model, `predict` on a few rows, an estimator on digits) would not earn it back, so the kernels
are loaded by the first optimizer step (or finiteness check) over at least `MIN_SIZE`
parameters, or at once by `set_enabled(True)` / `use_kernels(True)`; once loaded they serve
arrays of every size. The forward, backward and loss kernels never load numba themselves: a
model that only predicts stays on NumPy, however many rows.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np

from chainrule.autograd.tensor import Array

__all__ = [
    "ACTIVATIONS",
    "adam_",
    "all_finite",
    "available",
    "bias_activation_",
    "delta_and_bias_grad",
    "enabled",
    "flush_subnormals_",
    "loaded",
    "rmsprop_",
    "set_enabled",
    "sgd_",
    "softmax_cross_entropy",
    "unchecked",
    "use_kernels",
]

#: The activations the kernels know, by the names `dense_chain` uses, and their codes.
ACTIVATIONS = {None: 0, "": 0, "relu": 1, "tanh": 2, "sigmoid": 3}
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
# (The checks compare dtypes with `is`: NumPy keeps one object per native dtype, and a
# byte-swapped one, which the kernels do not take, is another object.)
_DTYPES = (_F32, _F64)


def _env_off() -> bool:
    return os.environ.get("CHAINRULE_NO_NUMBA", "").strip() not in ("", "0")


_enabled = not _env_off()
#: Parameters of the first optimizer step worth loading numba for (see the module docstring).
MIN_SIZE = 1 << 14
_module: ModuleType | None = None
_missing = False  # numba could not be imported
_found: bool | None = None  # numba is installed (looked up once: a lookup stats the disk)


def _kernels(size: int = MIN_SIZE) -> ModuleType | None:
    """The kernel module when the kernels are to be used for an array of `size` elements."""
    global _module, _missing
    if not _enabled or _missing:
        return None
    if _module is None:
        if size < MIN_SIZE:  # not worth loading numba for (yet)
            return None
        try:
            from chainrule.fast import _numba_kernels
        except ImportError:  # numba is not installed: the NumPy code runs
            _missing = True
            return None
        _module = _numba_kernels
    return _module


def available() -> bool:
    """numba is installed (the ``[fast]`` extra); found without importing it (seconds).

    Looked up once per process: the lookup searches the import path on disk (~70 µs).
    """
    global _found
    if _module is not None:
        return True
    if _found is None:
        _found = importlib.util.find_spec("numba") is not None
    return _found and not _missing


def enabled() -> bool:
    """The compiled kernels are switched on and numba is installed (they run once loaded)."""
    return _enabled and available()


def loaded() -> bool:
    """The compiled kernels run now: switched on and loaded (the check of the hot paths)."""
    return _enabled and _module is not None


def unchecked(dtype: np.dtype[Any]) -> ModuleType | None:
    """The kernel module itself when the kernels run now and compile for `dtype`, else None.

    For `chainrule.fast.dense_chain`, whose inner calls pass only arrays whose layout it
    guarantees (row-major products it has just made, contiguous biases and gradient buffers,
    matching shapes), so they skip the checks of `bias_activation_` and
    `delta_and_bias_grad`: on a small network (W2 in ``benchmarks/``) those checks cost as
    much as the kernels' arithmetic. A call with other arrays would write out of bounds.
    """
    if not _enabled or (dtype is not _F32 and dtype is not _F64):
        return None
    return _module


def set_enabled(flag: bool) -> bool:
    """Switch the compiled kernels on or off for this process; returns the previous setting.

    Switching on loads them at once (numba's import and the cached machine code), so that they
    serve arrays of every size, not only from the first one of `MIN_SIZE` parameters on.

    Switching on without numba installed is allowed and changes nothing (NumPy runs).
    """
    previous = _switch(flag)
    if flag:
        _kernels()  # load now: asked for, the kernels serve small arrays too
    return previous


def _switch(flag: bool) -> bool:
    """Set the switch alone (nothing loaded); returns the previous setting."""
    global _enabled
    previous, _enabled = _enabled, bool(flag)
    return previous


@contextmanager
def use_kernels(flag: bool) -> Iterator[None]:
    """``with use_kernels(False): ...`` runs the block on the NumPy code (tests, benchmarks)."""
    previous = set_enabled(flag)
    try:
        yield
    finally:
        _switch(previous)  # back as it was, without loading numba on the way out


def _flat(*arrays: Array) -> Sequence[Array] | None:
    """1-d views of arrays that share shape, dtype and a contiguous memory layout, else None."""
    first = arrays[0]
    if first.dtype not in _DTYPES:
        return None
    shape, dtype = first.shape, first.dtype
    if first.ndim == 1:  # a flat group: the arrays themselves (this runs every step)
        for a in arrays:
            if a.shape != shape or a.dtype != dtype or not a.flags.c_contiguous:
                return None
        return arrays
    flags = first.flags
    order = "C" if flags.c_contiguous else "F" if flags.f_contiguous else None
    if order is None:
        return None
    flag = "C_CONTIGUOUS" if order == "C" else "F_CONTIGUOUS"
    for a in arrays:
        if a.shape != shape or a.dtype != dtype or not a.flags[flag]:
            return None
    return [a.reshape(-1, order=order) for a in arrays]


def _rows(*arrays: Array) -> bool:
    """Row-major 2-d arrays of one shape and a float dtype the kernels compile for."""
    first = arrays[0]
    dtype = first.dtype
    if first.ndim != 2 or (dtype is not _F32 and dtype is not _F64):
        return False
    shape = first.shape
    for a in arrays:
        if a.shape != shape or a.dtype is not dtype or not a.flags.c_contiguous:
            return False
    return True


# ---------------------------------------------------------------------- optimizer steps
# Each returns None, having changed nothing, when its kernel cannot run; else True, or with
# `keep` (an array laid out as w: the divergence guard's copy, `chainrule.fast.backup`) the
# weights before the step written into `keep` and whether every new weight is finite.
_NOWHERE = {dtype: np.empty(0, dtype) for dtype in _DTYPES}  # `keep` when there is none


def adam_(
    w: Array,
    g: Array,
    m: Array,
    v: Array,
    *,
    betas: tuple[float, float],
    step_size: float,
    eps: float,
    weight_decay: float,
    decay: float,
    keep: Array | None = None,
) -> bool | None:
    """Adam's step in one pass (`chainrule.fast.updates.adam_update_`), w, m and v in place:
    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², w ← w·decay − s·m/(√v + ε)."""
    k = _kernels(w.size)
    if k is None:
        return None
    flat = _flat(w, g, m, v) if keep is None else _flat(w, g, m, v, keep)
    if flat is None:
        return None
    saved = _NOWHERE[w.dtype] if keep is None else flat[4]
    b1, b2 = betas
    # (each hyperparameter rounded to w's dtype, as NumPy would)
    h = np.array([b1, b2, 1.0 - b1, 1.0 - b2, step_size, eps, weight_decay, decay], w.dtype)
    return bool(k.adam(flat[0], flat[1], flat[2], flat[3], h, saved, keep is not None))


def rmsprop_(
    w: Array,
    g: Array,
    square_avg: Array,
    momentum_buffer: Array | None,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    keep: Array | None = None,
) -> bool | None:
    """RMSprop's step in one pass (`chainrule.fast.updates.rmsprop_update_`), not centered."""
    k = _kernels(w.size)
    if k is None:
        return None
    buf = g if momentum_buffer is None else momentum_buffer  # (not read without momentum)
    flat = _flat(w, g, square_avg, buf) if keep is None else _flat(w, g, square_avg, buf, keep)
    if flat is None:
        return None
    saved = _NOWHERE[w.dtype] if keep is None else flat[4]
    mu = momentum if momentum_buffer is not None else 0.0
    h = np.array([alpha, 1.0 - alpha, lr, eps, weight_decay, mu], w.dtype)
    return bool(k.rmsprop(flat[0], flat[1], flat[2], flat[3], h, saved, keep is not None))


def sgd_(
    w: Array,
    g: Array,
    momentum_buffer: Array | None,
    *,
    lr: float,
    weight_decay: float,
    momentum: float,
    dampening: float,
    nesterov: bool,
    keep: Array | None = None,
) -> bool | None:
    """SGD's step in one pass (`chainrule.fast.updates.sgd_update_`), after the first momentum
    step (which sets the buffer to g)."""
    k = _kernels(w.size)
    if k is None:
        return None
    buf = g if momentum_buffer is None else momentum_buffer  # (not read without momentum)
    flat = _flat(w, g, buf) if keep is None else _flat(w, g, buf, keep)
    if flat is None:
        return None
    saved = _NOWHERE[w.dtype] if keep is None else flat[3]
    mu = momentum if momentum_buffer is not None else 0.0
    h = np.array([lr, weight_decay, mu, 1.0 - dampening], w.dtype)
    return bool(k.sgd(flat[0], flat[1], flat[2], h, bool(nesterov), saved, keep is not None))


# ---------------------------------------------------------------------- dense layers
def bias_activation_(a: Array, b: Array | None, act: str | None) -> bool:
    """a ← σ(a + b) in place, one pass (a dense layer's forward pass after its product), for
    ReLU and the identity. tanh and the sigmoid are left to NumPy: its vectorised tanh and exp
    are as fast, and a compiled libm version could differ from them in the last bit, while the
    fused chain must give the layer-by-layer ops' numbers exactly."""
    k = _module if _enabled else None  # never loads numba itself (see the module docstring)
    if k is None or (act and act != "relu") or not _rows(a) or len(a) == 0:
        return False
    if b is not None and (
        b.dtype is not a.dtype or b.shape != a.shape[1:] or not b.flags.contiguous
    ):
        return False
    k.bias_relu(a, a[0] if b is None else b, act == "relu", b is not None)
    return True


def delta_and_bias_grad(g: Array, z: Array, act: str | None, out: Array, db: Array | None) -> bool:
    """out ← g ∘ σ′(a) (σ′ through z = σ(a)) and db ← Σₙ out in one sweep; `out` may be `g`."""
    k = _module if _enabled else None
    code = ACTIVATIONS.get(act)
    if k is None or code is None or not _rows(g, z, out) or len(g) == 0:
        return False
    if db is not None and (
        db.dtype is not g.dtype or db.shape != g.shape[1:] or not db.flags.contiguous
    ):
        return False
    acc = g[0] if db is None else db
    if out is g:
        k.delta_and_bias_grad_in_place(g, z, acc, code, db is not None)
    else:
        k.delta_and_bias_grad(g, z, out, acc, code, db is not None)
    return True


# ---------------------------------------------------------------------- the training loop
_BITS = {
    np.dtype(np.float32): (np.uint32, np.uint32(0x7F800000)),
    np.dtype(np.float64): (np.uint64, np.uint64(0x7FF0000000000000)),
}


def flush_subnormals_(a: Array) -> bool:
    """Set the elements of `a` below the smallest normal number in magnitude to 0, in one
    pass (`chainrule.fast.updates.flush_subnormals`); False, nothing done, if it cannot run."""
    k = _kernels(a.size)
    flat = None if k is None else _flat(a)
    if flat is None:
        return False
    k.flush_subnormals(flat[0], a.dtype.type(np.finfo(a.dtype).tiny))
    return True


def all_finite(a: Array) -> bool | None:
    """No element of `a` is ±inf or NaN, in one pass; None when the kernel cannot run (the
    caller then checks with NumPy)."""
    bits = _BITS.get(a.dtype)
    if bits is None or (not a.flags.c_contiguous and not a.flags.f_contiguous):
        return None
    k = _kernels(a.size)
    if k is None:
        return None
    uint, exponent = bits
    return bool(k.all_finite(a.reshape(-1, order="A").view(uint), exponent))


# ---------------------------------------------------------------------- loss
def softmax_cross_entropy(a: Array, y: Array) -> tuple[float, Array] | None:
    """(Σₙ −log softmax(a)ₙ,ᵧₙ, softmax(a) − onehot(y)) in one pass over the logits, or None.

    `y` must hold valid class indices (`chainrule.nn.losses` checks them first).
    """
    k = _module if _enabled else None
    if k is None or not _rows(a) or len(a) == 0 or y.dtype != np.intp:
        return None
    p = np.empty_like(a)
    total = k.softmax_cross_entropy(a, y, p)
    return float(total), p
