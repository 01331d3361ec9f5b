"""Threads: predicting from many threads and training in others at the same time.

Grad mode is per thread (`chainrule.autograd.grad_mode`), so a `predict` (which runs under
`no_grad`) in one thread never switches training off in another.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from chainrule.autograd import is_grad_enabled
from chainrule.estimators import MLPClassifier, MLPRegressor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(200, 4))
Y_CLASS = (X[:, 0] + X[:, 1] > 0).astype(int)
Y_REG = X @ np.array([1.0, -2.0, 0.5, 0.0])


@pytest.fixture(autouse=True)
def _switch_threads_often() -> Iterator[None]:
    """Let the interpreter switch threads every microsecond, so races show up in every run."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def _classifier(seed: int = 0) -> MLPClassifier:
    return MLPClassifier(hidden_layer_sizes=(16,), epochs=30, random_state=seed)


def test_concurrent_predict_on_one_estimator_gives_the_serial_answers() -> None:
    model = _classifier().fit(X, Y_CLASS)
    chunks = [X[i::8] for i in range(8)]
    serial = [model.predict_proba(c) for c in chunks]
    for _ in range(3):
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(model.predict_proba, chunks * 4))
        for got, want in zip(results, serial * 4, strict=True):
            np.testing.assert_array_equal(got, want)
        assert is_grad_enabled()
        # Training still works afterwards (it used to fail: grad mode was left off).
        _classifier(1).fit(X, Y_CLASS)


def test_concurrent_fits_of_different_estimators_match_serial_fits() -> None:
    seeds = list(range(6))
    serial = [_classifier(s).fit(X, Y_CLASS).predict_proba(X) for s in seeds]
    for _ in range(2):
        with ThreadPoolExecutor(6) as pool:
            fitted = list(pool.map(lambda s: _classifier(s).fit(X, Y_CLASS), seeds))
        for model, want in zip(fitted, serial, strict=True):
            np.testing.assert_array_equal(model.predict_proba(X), want)


def test_fit_while_other_threads_predict() -> None:
    predictor = _classifier().fit(X, Y_CLASS)
    expected = predictor.predict(X)
    want = MLPRegressor(hidden_layer_sizes=(8,), epochs=40, random_state=3).fit(X, Y_REG)

    def keep_predicting(_: int) -> bool:
        return all(np.array_equal(predictor.predict(X), expected) for _ in range(20))

    for _ in range(3):
        with ThreadPoolExecutor(5) as pool:
            predicting = [pool.submit(keep_predicting, i) for i in range(4)]
            training = pool.submit(
                lambda: MLPRegressor(hidden_layer_sizes=(8,), epochs=40, random_state=3).fit(
                    X, Y_REG
                )
            )
            got = training.result(60)
            assert all(f.result(60) for f in predicting)
        np.testing.assert_array_equal(got.predict(X), want.predict(X))
