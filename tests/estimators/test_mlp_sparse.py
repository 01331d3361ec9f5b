"""Sparse input (SciPy CSR, e.g. TF-IDF): accepted, and densified one batch at a time."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from chainrule.estimators import MLPClassifier, MLPRegressor

sp = pytest.importorskip("scipy.sparse")

FAST = {"hidden_layer_sizes": (8,), "epochs": 4, "random_state": 0, "tol": None}


def _data(n=200, d=40, seed=0):
    X = sp.random(n, d, density=0.1, format="csr", random_state=seed, dtype=np.float64)
    s = X.sum(axis=1).A1
    return X, (s > np.median(s)).astype(int), s


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_sparse_trains_exactly_as_dense(cls, early_stopping):
    X, y, s = _data()
    target = y if cls is MLPClassifier else s
    params = {**FAST, "early_stopping": early_stopping}
    sparse = cls(**params).fit(X, target)
    dense = cls(**params).fit(X.toarray(), target)
    for a, b in zip(sparse.model_.parameters(), dense.model_.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(sparse.predict(X), dense.predict(X.toarray()))
    np.testing.assert_array_equal(sparse.predict(X), sparse.predict(X.tocsc()))  # any format


def test_sparse_with_weights_and_partial_fit():
    X, y, _ = _data()
    w = np.where(y == 1, 2.0, 0.0)  # weight 0 drops rows: a sparse row selection
    est = MLPClassifier(**FAST).fit(X, y, sample_weight=w + 0.5)
    assert est.predict_proba(X).shape == (200, 2)
    est.partial_fit(X[:50], y[:50])
    assert est.n_iter_ == 1


def _peak_bytes(n, d=5000):
    """Peak traced memory of fit + predict_proba on an n × d CSR matrix, 0.1 % stored."""
    X = sp.random(n, d, density=1e-3, format="csr", random_state=0, dtype=np.float32)
    y = np.random.default_rng(0).integers(0, 2, n)
    est = MLPClassifier(hidden_layer_sizes=(4,), epochs=1, batch_size=64, random_state=0)
    est.set_params(early_stopping=True)  # the held-out rows are scored from sparse too
    tracemalloc.start()
    try:
        est.fit(X, y)
        est.predict_proba(X)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_follows_the_batch_not_the_data():
    # 5000 features (TF-IDF-like): 800 rows are 16 MB as dense float32, 3200 rows 64 MB.
    small, large = _peak_bytes(800), _peak_bytes(3200)
    assert large < 1.5 * small, (small, large)  # 4× the rows, about the same peak
    # Below one dense copy of the data's 10 % validation part (6.4 MB), let alone of the data.
    assert large < 3200 * 5000 * 4 / 10, large
