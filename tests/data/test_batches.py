"""Minibatch iteration: the three gradient-descent regimes, shuffling, sparse rows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.data import (
    batch_indices,
    minibatches,
    n_batches,
)


def _data(n: int = 10, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    return X, np.arange(n)


# ---------------------------------------------------------------------- the three regimes
@pytest.mark.parametrize(
    ("batch_size", "sizes"),
    [
        (None, [10]),  # batch gradient descent: the whole set in one step
        (1, [1] * 10),  # stochastic gradient descent: one sample per step
        (3, [3, 3, 3, 1]),  # minibatch: ⌈10/3⌉ = 4 steps, the last one partial
        (5, [5, 5]),
        (10, [10]),
        (64, [10]),  # larger than the data: one batch
    ],
)
@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_sizes_of_the_three_regimes(batch_size, sizes, shuffle):
    X, y = _data()
    batches = list(minibatches((X, y), batch_size, shuffle=shuffle, rng=0))
    assert [len(xb) for xb, _ in batches] == sizes
    assert len(batches) == n_batches(10, batch_size) == math.ceil(10 / min(batch_size or 10, 10))
    # Every sample exactly once per epoch, rows of X and y kept together.
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen) == list(range(10))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb, X[yb])


@given(n=st.integers(1, 200), k=st.integers(1, 64))
def test_step_count_is_ceil_n_over_k(n, k):
    idx = list(batch_indices(n, k, shuffle=True, rng=1))
    assert len(idx) == -(-n // k) == n_batches(n, k)
    assert sorted(np.concatenate(idx)) == list(range(n))


def test_int_gives_index_arrays():
    assert [list(b) for b in minibatches(5, 2)] == [[0, 1], [2, 3], [4]]


def test_single_array_gives_arrays():
    X, _ = _data()
    out = list(minibatches(X, 4))
    assert [b.shape for b in out] == [(4, 3), (4, 3), (2, 3)]


def test_without_shuffling_batches_are_views():
    X, y = _data()
    for xb, _ in minibatches((X, y), 4):
        assert np.shares_memory(xb, X)


def test_reused_buffers_are_overwritten_but_correct():
    X, y = _data(12)
    seen, buffers = [], set()
    for xb, yb in minibatches((X, y), 4, shuffle=True, rng=3, reuse_buffers=True):
        np.testing.assert_array_equal(xb, X[yb])
        seen.append(yb.copy())
        buffers.add(xb.__array_interface__["data"][0])
    assert len(buffers) == 1  # the same memory every step: no allocation per batch
    assert sorted(np.concatenate(seen)) == list(range(12))


def test_array_likes_are_accepted():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4, 5, 6]})
    batches = list(minibatches((frame, [0, 1, 0]), 2))
    np.testing.assert_array_equal(batches[0][0], [[1.0, 4.0], [2.0, 5.0]])
    assert list(batches[1][1]) == [0]
    lists = list(minibatches(([[1, 2], [3, 4], [5, 6]], ["a", "b", "c"]), 2))
    assert list(lists[0][1]) == ["a", "b"]  # labels need not be numbers


# ---------------------------------------------------------------------- shuffling
def _order(**kw):
    return np.concatenate(list(batch_indices(50, 8, shuffle=True, **kw)))


def test_shuffling_is_reproducible_with_a_seed_and_differs_without():
    assert np.array_equal(_order(rng=7), _order(rng=7))
    assert not np.array_equal(_order(rng=7), _order(rng=8))
    gen = np.random.default_rng(7)
    first, second = _order(rng=gen), _order(rng=gen)
    assert not np.array_equal(first, second)  # a generator moves on: a new order each epoch
    cr.set_seed(11)
    a = _order()
    cr.set_seed(11)
    assert np.array_equal(a, _order())  # rng=None follows cr.set_seed


def test_no_shuffling_keeps_order_and_draws_nothing():
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    assert list(np.concatenate(list(batch_indices(7, 3, rng=gen)))) == list(range(7))
    list(batch_indices(7, None, shuffle=True, rng=gen))  # one batch: order is irrelevant
    assert gen.bit_generator.state == state


# ---------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, "8"])
def test_bad_batch_size_raises_at_the_call(batch_size):
    X, y = _data()
    with pytest.raises(ValueError, match="batch_size"):
        minibatches((X, y), batch_size)  # not iterated: the error comes at once


def test_mismatched_lengths_raise_before_iterating():
    with pytest.raises(ValueError, match="array 0 has 3, array 1 has 2"):
        minibatches((np.zeros(3), np.zeros(2)), 1)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("reuse", [False, True])
def test_iter_batches_densifies_sparse_rows_batch_by_batch(shuffle, reuse):
    sp = pytest.importorskip("scipy.sparse")
    from chainrule.data import iter_batches

    X = sp.random(23, 7, density=0.3, format="csr", random_state=0, dtype=np.float32)
    y = np.arange(23)
    rows = np.array([0, 3, 4, 9, 10, 11, 20, 22])
    for r in (None, rows):
        sparse = iter_batches(
            (X, y), 3, shuffle=shuffle, rng=np.random.default_rng(0), reuse_buffers=reuse, rows=r
        )
        dense = iter_batches(
            (X.toarray(), y), 3, shuffle=shuffle, rng=np.random.default_rng(0), rows=r
        )
        for (xs, ys), (xd, yd) in zip(sparse, dense, strict=True):
            assert isinstance(xs, np.ndarray) and len(xs) <= 3
            np.testing.assert_array_equal(xs, xd)
            np.testing.assert_array_equal(ys, yd)
