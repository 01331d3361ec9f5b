"""Minibatches: the data side of gradient descent.

The lecture's three regimes differ only in how many of the N training samples one step of
w ← w − η ∂E/∂w averages its gradient over:

- batch gradient descent (``batch_size=None``): all N, ∂E/∂w = 1/N Σₙ ∂Eₙ/∂w, one step per epoch;
- stochastic gradient descent (``batch_size=1``): one sample, N steps per epoch;
- minibatch gradient descent (``batch_size=k``): k samples, ⌈N/k⌉ steps per epoch (the last,
  partial batch is kept, so every sample is used once per epoch).

Only NumPy is used here. A sparse X (see `chainrule.data.arrays`) is densified one batch at a
time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from chainrule.data.arrays import Array, check_arrays, is_sparse, n_rows, take_rows
from chainrule.rng import Seed, as_generator


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
    takes: list[Callable[[Array, Array], Array]] = []
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
                takes = [_rows_into(a) for a in arrays]
            m = len(idx)
            yield tuple(take(idx, buf[:m]) for take, buf in zip(takes, buffers, strict=True))
        else:
            yield tuple(take_rows(a, idx) for a in arrays)


def _rows_into(a: Array) -> Callable[[Array, Array], Array]:
    """``take(idx, out)``: `take_rows` of `a` into `out`, with the dense/sparse decision made
    once per epoch rather than at every step (for a dense `a`, ``ndarray.take`` itself)."""
    if is_sparse(a):
        return lambda idx, out: take_rows(a, idx, out=out)
    return lambda idx, out: a.take(idx, 0, out)
