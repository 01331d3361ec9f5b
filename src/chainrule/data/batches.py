"""Minibatches and validation splits over NumPy arrays: the data side of gradient descent.

The lecture's three regimes differ only in how many of the N training samples one step of
w ← w − η ∂E/∂w averages its gradient over:

- batch gradient descent (``batch_size=None``): all N, ∂E/∂w = 1/N Σₙ ∂Eₙ/∂w, one step per epoch;
- stochastic gradient descent (``batch_size=1``): one sample, N steps per epoch;
- minibatch gradient descent (``batch_size=k``): k samples, ⌈N/k⌉ steps per epoch (the last,
  partial batch is kept, so every sample is used once per epoch).

Only NumPy is used here; anything `numpy.asarray` accepts (lists, pandas frames) is accepted.
A SciPy sparse matrix (CSR, e.g. TF-IDF features) is recognised by its methods, without
importing SciPy, and densified one batch at a time (`take_rows`), so memory follows the batch
size, not the data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.rng import Seed, as_generator

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


def check_batch_size(batch_size: int | None, n: int) -> int:
    """The number of samples per step: ``None`` means all `n` (batch gradient descent)."""
    if batch_size is None:
        return n
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return min(int(batch_size), n)


def n_batches(n: int, batch_size: int | None) -> int:
    """Steps per epoch: ⌈n / batch_size⌉ (1 for batch gradient descent)."""
    return -(-n // check_batch_size(batch_size, n))


def batch_indices(
    n: int, batch_size: int | None = 32, *, shuffle: bool = False, rng: Seed = None
) -> Iterator[Array]:
    """Index arrays of the minibatches of one epoch over `n` samples.

    With `shuffle`, one permutation is drawn from `rng` per call (per epoch); without it, or
    when one batch holds everything, the samples come in order and nothing is drawn.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"the number of samples must be a positive int, got {n!r}")
    k = check_batch_size(batch_size, int(n))
    gen = as_generator(rng) if shuffle and k < n else None
    return _index_batches(int(n), k, gen)


def _index_batches(n: int, k: int, gen: np.random.Generator | None) -> Iterator[Array]:
    order = gen.permutation(n) if gen is not None else np.arange(n)  # drawn on first next()
    for start in range(0, n, k):
        yield order[start : start + k]


def minibatches(
    data: int | Any | tuple[Any, ...],
    batch_size: int | None = 32,
    *,
    shuffle: bool = False,
    rng: Seed = None,
    reuse_buffers: bool = False,
) -> Iterator[Any]:
    """Iterate over one epoch in minibatches.

    Parameters
    ----------
    data : int, array_like or tuple of array_like
        An int n yields index arrays into ``range(n)``; one array yields its row batches; a
        tuple of arrays with the same number of rows, e.g. ``(X, y)``, yields tuples of
        batches taken at the same rows.
    batch_size : int or None
        Samples per batch: ``None`` for the whole set (batch gradient descent), 1 for
        stochastic gradient descent, k for minibatch gradient descent. The last batch holds
        the remaining n mod k samples when k does not divide n.
    shuffle : bool
        Visit the samples in a random order drawn from `rng` (one permutation per call).
    rng : int, numpy.random.Generator or None
        Source of the permutation (None: the library's generator, see `cr.set_seed`).
    reuse_buffers : bool
        Gather shuffled batches into arrays allocated once and overwritten by the next batch
        (no allocation per step). Each batch is then valid only until the next one.

    Yields
    ------
    numpy.ndarray or tuple of numpy.ndarray
        Without shuffling the batches are views (no copy); with it, gathered rows.
    """
    if isinstance(data, int | np.integer) and not isinstance(data, bool):
        return batch_indices(int(data), batch_size, shuffle=shuffle, rng=rng)
    single = not isinstance(data, tuple)
    names = ["data"] if single else [f"array {i}" for i in range(len(data))]
    arrays = check_arrays(*([data] if single else data), names=names, numeric=())
    check_batch_size(batch_size, len(arrays[0]))  # fail now, not at the first batch
    batches = iter_batches(
        arrays, batch_size, shuffle=shuffle, rng=rng, reuse_buffers=reuse_buffers
    )
    return (b[0] for b in batches) if single else batches


def iter_batches(
    arrays: Sequence[Array],
    batch_size: int | None,
    *,
    shuffle: bool = False,
    rng: Seed = None,
    reuse_buffers: bool = False,
    rows: Array | None = None,
) -> Iterator[tuple[Array, ...]]:
    """`minibatches` over already checked arrays (no validation: the training loop's fast path).

    `arrays` must be NumPy arrays (or, for X, a SciPy sparse matrix, densified batch by batch)
    with the same number of rows; yields tuples of dense batches.
    `rows` (an index array) restricts the epoch to those rows, in that order, as if the arrays
    were ``a[rows]``, but without copying them: a held-out validation set costs no second
    copy of the training data, only each batch is gathered.
    """
    n = n_rows(arrays[0]) if rows is None else len(rows)
    k = check_batch_size(batch_size, n)
    buffers: list[Array] | None = None
    for idx in batch_indices(n, k, shuffle=shuffle, rng=rng):
        if rows is None and (not shuffle or k == n):
            # Contiguous: views (a sparse matrix densifies just this slice).
            yield tuple(take_rows(a, slice(idx[0], idx[-1] + 1)) for a in arrays)
            continue
        if rows is not None:
            idx = rows[idx]
        if reuse_buffers:
            if buffers is None:
                buffers = [np.empty((k, *a.shape[1:]), dtype=a.dtype) for a in arrays]
            yield tuple(
                take_rows(a, idx, out=buf[: len(idx)])
                for a, buf in zip(arrays, buffers, strict=True)
            )
        else:
            yield tuple(take_rows(a, idx) for a in arrays)


def train_val_split(
    X: Any,
    y: Any,
    fraction: float = 0.2,
    *,
    stratify: bool = False,
    shuffle: bool = True,
    rng: Seed = None,
) -> tuple[Array, Array, Array, Array]:
    """Hold out a fraction of the samples for validation.

    Parameters
    ----------
    X, y : array_like
        Inputs (numeric, finite) and targets with the same number of rows.
    fraction : float
        Share of the samples held out, 0 < fraction < 1; ⌈fraction · n⌉ samples are taken.
    stratify : bool
        Keep the class proportions of `y` in both parts (each class gets its share of the
        validation set, rounded by largest remainder; every class needs two samples).
    shuffle : bool
        Pick the held-out samples at random (from `rng`); without it the last ones (of each
        class, when stratified) are held out, as Keras's ``validation_split`` does.
    rng : int, numpy.random.Generator or None
        Source of randomness (None: the library's generator, see `cr.set_seed`).

    Returns
    -------
    X_train, X_val, y_train, y_val : numpy.ndarray
        In scikit-learn's ``train_test_split`` order.
    """
    X, y = check_arrays(X, y)
    train, val = split_indices(
        len(X), fraction, labels=y if stratify else None, shuffle=shuffle, rng=rng
    )
    take = np.take
    return (
        take(X, train, axis=0),
        take(X, val, axis=0),
        take(y, train, axis=0),
        take(y, val, axis=0),
    )


def split_indices(
    n: int,
    fraction: float,
    *,
    labels: Any = None,
    shuffle: bool = True,
    rng: Seed = None,
) -> tuple[Array, Array]:
    """Training and validation row indices for `train_val_split` (stratified by `labels`)."""
    if not isinstance(fraction, float | int) or isinstance(fraction, bool):
        raise ValueError(f"fraction must be a number between 0 and 1, got {fraction!r}")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be between 0 and 1 (exclusive), got {fraction}")
    n_val = math.ceil(fraction * n - 1e-9)  # the tolerance keeps 0.7 * 10 at 7, not 8
    if not 1 <= n_val <= n - 1:
        raise ValueError(
            f"a validation fraction of {fraction} of {n} samples leaves "
            f"{n_val} for validation and {n - n_val} for training; both need at least one"
        )
    gen = as_generator(rng) if shuffle else None
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != n:
            raise ValueError(f"labels has {len(labels)} entries for {n} samples")
        val = _stratified_val_indices(labels, n_val, gen)
    else:
        val = gen.permutation(n)[:n_val] if gen is not None else np.arange(n - n_val, n)
    is_val = np.zeros(n, dtype=bool)
    is_val[val] = True
    train = np.flatnonzero(~is_val)
    if gen is not None:
        return gen.permutation(train), gen.permutation(val)
    return train, np.flatnonzero(is_val)


def _stratified_val_indices(y: Array, n_val: int, gen: np.random.Generator | None) -> Array:
    """Indices of a validation set of `n_val` samples with the class proportions of `y`."""
    if y.ndim == 1 and y.dtype.kind in "iu" and len(y) and y.min() >= 0 and y.max() <= len(y):
        # Class indices (as the estimators encode them): counted directly, without the
        # sorted copies np.unique makes (several times the memory of y on large data).
        counts = np.bincount(y)
        classes = np.flatnonzero(counts)
        counts, labels, codes = counts[classes], y, classes
    else:
        classes, labels = np.unique(y, axis=0 if y.ndim > 1 else None, return_inverse=True)
        labels = labels.reshape(-1)
        counts = np.bincount(labels, minlength=len(classes))
        codes = np.arange(len(classes))
    if counts.min() < 2:
        lonely = classes[int(np.argmin(counts))]
        raise ValueError(
            f"a stratified split needs at least 2 samples of every class; class {lonely!r} "
            "has 1 (merge rare classes or use stratify=False)"
        )
    # Largest remainder: each class gets ⌊share⌋, the leftover seats go to the biggest
    # fractional parts, so the shares add up to n_val exactly and each is within 1 of exact.
    share = counts * (n_val / len(y))
    take = np.floor(share).astype(np.int64)
    leftover = n_val - int(take.sum())
    take[np.argsort(-(share - take), kind="stable")[:leftover]] += 1
    take = np.minimum(take, counts - 1)  # keep a sample of every class for training
    parts = []
    for c in range(len(classes)):
        members = np.flatnonzero(labels == codes[c])
        if gen is not None:
            parts.append(gen.permutation(members)[: take[c]])
        else:
            parts.append(members[len(members) - take[c] :])
    return np.concatenate(parts)
