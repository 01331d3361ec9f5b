"""Validation splits: hold out a share of the samples, optionally keeping class proportions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.data.arrays import Array, check_arrays
from chainrule.rng import Seed, as_generator


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
