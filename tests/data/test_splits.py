"""Validation splits: sizes, rounding, reproducibility, stratification, bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule.data import split_indices, train_val_split


def _data(n: int = 10, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    return X, np.arange(n)


# ---------------------------------------------------------------------- splits
def test_split_sizes_are_disjoint_and_cover():
    X, y = _data(25)
    X_tr, X_va, y_tr, y_va = train_val_split(X, y, 0.2, rng=0)
    assert (len(X_tr), len(X_va)) == (20, 5)
    assert sorted(np.concatenate([y_tr, y_va])) == list(range(25))
    np.testing.assert_array_equal(X_va, X[y_va])


def test_split_rounding_is_ceil_without_float_noise():
    assert len(split_indices(10, 0.7, rng=0)[1]) == 7  # 0.7 * 10 = 7.000000000000001
    assert len(split_indices(10, 0.25, rng=0)[1]) == 3


def test_unshuffled_split_holds_out_the_last_rows():
    X, y = _data(10)
    _, _, y_tr, y_va = train_val_split(X, y, 0.3, shuffle=False)
    assert list(y_va) == [7, 8, 9] and list(y_tr) == list(range(7))


def test_split_is_reproducible():
    X, y = _data(30)
    a = train_val_split(X, y, 0.3, rng=4)[3]
    assert np.array_equal(a, train_val_split(X, y, 0.3, rng=4)[3])
    assert not np.array_equal(a, train_val_split(X, y, 0.3, rng=5)[3])


def test_stratified_split_keeps_class_ratios():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    X = np.arange(100, dtype=np.float64).reshape(-1, 1)
    _, X_va, y_tr, y_va = train_val_split(X, y, 0.2, stratify=True, rng=0)
    assert list(np.bincount(y_va)) == [10, 6, 4]
    assert list(np.bincount(y_tr)) == [40, 24, 16]
    np.testing.assert_array_equal(y[X_va[:, 0].astype(int)], y_va)
    # An unstratified split of the same data usually misses these proportions.
    misses = sum(
        list(np.bincount(train_val_split(X, y, 0.2, rng=s)[3], minlength=3)) != [10, 6, 4]
        for s in range(20)
    )
    assert misses > 10


@given(
    counts=st.lists(st.integers(2, 40), min_size=2, max_size=5),
    fraction=st.floats(0.05, 0.95),
    seed=st.integers(0, 1000),
)
def test_stratified_shares_are_within_one_of_exact(counts, fraction, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    n_val = math.ceil(fraction * n - 1e-9)
    if not 1 <= n_val <= n - 1:
        return
    train, val = split_indices(n, fraction, labels=y, rng=seed)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == n
    got = np.bincount(y[val], minlength=len(counts))
    exact = np.array(counts) * n_val / n
    assert np.all(np.abs(got - exact) < 1 + 1e-9)
    assert np.all(np.bincount(y[train], minlength=len(counts)) >= 1)


def test_stratified_split_of_one_hot_targets():
    y = np.eye(2)[np.repeat([0, 1], [8, 4])]
    _, _, _, y_va = train_val_split(np.zeros((12, 1)), y, 0.25, stratify=True, rng=0)
    assert list(y_va.sum(axis=0)) == [2, 1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fraction": 0.0}, "between 0 and 1"),
        ({"fraction": 1.0}, "between 0 and 1"),
        ({"fraction": "0.2"}, "must be a number"),
        ({"fraction": 1e-12}, "both need at least one"),
        ({"fraction": 0.99}, "both need at least one"),
        ({"fraction": 0.5, "stratify": True}, "at least 2 samples of every class"),
    ],
)
def test_bad_split_arguments(kwargs, message):
    X, y = np.zeros((10, 1)), np.array([0] * 9 + [1])
    with pytest.raises(ValueError, match=message):
        train_val_split(X, y, **kwargs)
