"""Arrays as the library takes them: checked, one row per sample, dense or sparse.

Anything `numpy.asarray` accepts (lists, pandas frames) is accepted. A SciPy sparse matrix
(CSR, e.g. TF-IDF features) is recognised by its methods, without importing SciPy, and
densified a few rows at a time (`take_rows`), so memory follows the batch size, not the data.
Every check raises a ValueError that names the array and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

# Finiteness is checked this many elements at a time, so checking a large data set never
# allocates a boolean array of its full size.
_CHUNK = 1 << 16
# A sparse matrix is evaluated (predictions, validation) in dense chunks of at most this many
# values (1 MiB in float32), whatever the number of rows.
_SPARSE_CHUNK_VALUES = 1 << 18


def is_sparse(a: Any) -> bool:
    """True for a SciPy sparse matrix or array (duck-typed: no SciPy import)."""
    return hasattr(a, "tocsr") and hasattr(a, "toarray") and hasattr(a, "nnz")


def n_rows(a: Any) -> int:
    """Rows of an array or sparse matrix (``len`` is ambiguous for the latter)."""
    return int(a.shape[0]) if is_sparse(a) else len(a)


def take_rows(a: Any, idx: Array | slice, out: Array | None = None) -> Array:
    """The rows `idx` of `a` as a dense array; `out`: a buffer to fill instead (same shape).

    For a sparse `a` only these rows are densified: the way training and prediction touch
    sparse data, so no dense copy of all of it is ever made.
    """
    if is_sparse(a):
        part = a[idx]
        if out is not None and out.flags.c_contiguous and part.dtype == out.dtype:
            return part.toarray(out=out)  # straight into the buffer: no second dense batch
        dense = part.toarray()
        if out is None:
            return dense
        out[...] = dense
        return out
    if isinstance(idx, slice):
        return a[idx]
    return np.take(a, idx, axis=0, out=out)


def chunk_rows(a: Any, rows: int) -> int:
    """Rows per chunk when evaluating `a` in chunks of at most `rows`: for a sparse `a`, also
    few enough that each densified chunk holds at most `_SPARSE_CHUNK_VALUES` values."""
    if not is_sparse(a):
        return rows
    return max(1, min(rows, _SPARSE_CHUNK_VALUES // max(int(a.shape[1]), 1)))


def check_array(a: Any, name: str = "X", *, numeric: bool = True) -> Array:
    """`a` as an array with one row per sample, or a ValueError naming what is wrong.

    Checks: not a scalar, at least one sample, numeric (when `numeric`; booleans and integers
    count), and no NaN or infinite values in floating data.
    """
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} cannot be converted to an array: {exc}") from exc
    if arr.ndim == 0:
        raise ValueError(f"{name} must have one row per sample, got a scalar")
    if len(arr) == 0:
        raise ValueError(f"{name} is empty (0 samples)")
    if numeric and arr.dtype.kind not in "biuf":
        if arr.dtype.kind == "O":  # e.g. a pandas frame of numbers stored as objects
            try:
                arr = arr.astype(np.float64)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{name} must be numeric: {exc}") from exc
        else:
            raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        check_finite(arr, name)
    return arr


def check_finite(a: Array, name: str = "X") -> None:
    """Raise ValueError if floating array `a` holds a NaN or an infinite value."""
    flat = a.reshape(-1)  # a view for contiguous data
    for start in range(0, flat.size, _CHUNK):
        chunk = flat[start : start + _CHUNK]
        if not np.isfinite(chunk).all():
            bad = start + int(np.flatnonzero(~np.isfinite(chunk))[0])
            where = np.unravel_index(bad, a.shape)
            kind = "NaN" if np.isnan(flat[bad]) else "an infinite value"
            raise ValueError(
                f"{name} contains {kind} at index {tuple(int(i) for i in where)}; "
                "remove or impute missing values before training"
            )


def find_large(a: Array, limit: float) -> tuple[int, ...] | None:
    """The index of the first value of floating `a` with |value| > `limit`, or None.

    Scans 64 K values at a time, so checking a large array allocates nothing of its size.
    """
    if limit >= float(np.finfo(a.dtype).max):  # nothing finite exceeds it (nor can it be cast)
        return None
    flat = a.reshape(-1)
    for start in range(0, flat.size, _CHUNK):
        chunk = flat[start : start + _CHUNK]
        big = np.abs(chunk) > limit
        if big.any():
            bad = start + int(np.flatnonzero(big)[0])
            return tuple(int(i) for i in np.unravel_index(bad, a.shape))
    return None


def check_arrays(
    *arrays: Any, names: Sequence[str] = ("X", "y"), numeric: Sequence[str] = ("X",)
) -> tuple[Array, ...]:
    """Check each array (`check_array`) and that they hold the same number of samples.

    The arrays named in `numeric` must hold numbers; the others (targets) may hold any labels.
    """
    names = list(names) + [f"array {i}" for i in range(len(names), len(arrays))]
    out = tuple(
        check_array(a, n, numeric=n in numeric) for a, n in zip(arrays, names, strict=False)
    )
    lengths = {n: len(a) for n, a in zip(names, out, strict=False)}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{n} has {k}" for n, k in lengths.items())
        raise ValueError(f"inconsistent numbers of samples: {detail}")
    return out


def check_fit_arrays(
    X: Any, y: Any, sample_weight: Any = None, dtype: npt.DTypeLike = np.float32, prefix: str = ""
) -> tuple[Array | Any, Array, Array | None]:
    """The arguments of a fit, checked (ValueError naming the problem) and converted.

    X (dense, or sparse kept as CSR), floating targets and the sample weights (one
    non-negative entry per sample) are cast to `dtype`, the dtype of the parameters, so that
    no step mixes precisions. `prefix` names the set in messages (``"validation "``).
    """
    dtype = np.dtype(dtype)
    if is_sparse(X):  # kept sparse (CSR): the batches are densified one at a time
        X = X.tocsr().astype(dtype, copy=False)
        if X.shape[0] == 0:
            raise ValueError(f"{prefix}X is empty (0 samples)")
        check_finite(X.data, f"{prefix}X (its stored values)")
    else:
        X = check_array(X, f"{prefix}X")
    y = check_array(y, f"{prefix}y")
    n = n_rows(X)
    if len(y) != n:
        raise ValueError(f"{prefix}X has {n} samples but {prefix}y has {len(y)}")
    if X.dtype != dtype:
        X = X.astype(dtype)
    if y.dtype.kind == "f" and y.dtype != dtype:
        y = y.astype(dtype)
    w = sample_weight
    if w is not None:
        w = check_array(w, f"{prefix}sample_weight")
        if w.shape != (n,):
            raise ValueError(
                f"{prefix}sample_weight must have one entry per sample, shape ({n},); got {w.shape}"
            )
        if np.any(w < 0):
            raise ValueError(f"{prefix}sample_weight must be non-negative")
        w = w.astype(dtype, copy=False)
    return X, y, w
