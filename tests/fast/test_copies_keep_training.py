"""Copies keep training: every way of copying a model or an estimator gives one that learns.

Flattened parameters (`flatten_parameters`) are views into one buffer, and the optimizer's flat
path updates that buffer. A copy (pickle, deepcopy, joblib) gives each parameter its own array,
so a flat layout remembered from before the copy would update memory no parameter uses any
more and training would silently stop. Each test trains the copy and checks that its weights
move, and that they move exactly as a fresh, unflattened model's would.
"""

from __future__ import annotations

import copy
import io
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.nn.losses import cross_entropy

# every test here runs on the NumPy code and on the compiled kernels (conftest.py)
pytestmark = pytest.mark.usefixtures("both_paths")


def _weights(model: cr.nn.Module) -> list[np.ndarray]:
    return [p.data.copy() for p in model.parameters()]


def _step(model: cr.nn.Module, opt: cr.optim.Optimizer, rng: np.random.Generator) -> None:
    x = rng.standard_normal((5, 3))
    y = rng.integers(0, 2, 5)
    opt.zero_grad()
    cross_entropy(model(x), y).backward()
    opt.step()


def _flat_pair(optimizer: type = cr.optim.Adam):
    model = cr.nn.Sequential(
        cr.nn.Dense(3, 4, rng=np.random.default_rng(0), dtype=np.float64),
        cr.nn.ReLU(),
        cr.nn.Dense(4, 2, rng=np.random.default_rng(1), dtype=np.float64),
    )
    model.flatten_parameters()
    opt = optimizer(model.parameters(), lr=0.1)
    _step(model, opt, np.random.default_rng(2))  # the flat path has been taken once
    return model, opt


def _moved(before: list[np.ndarray], model: cr.nn.Module) -> bool:
    after = [p.data for p in model.parameters()]
    return all(not np.array_equal(b, a) for b, a in zip(before, after, strict=True))


def _pickle(obj):
    return pickle.loads(pickle.dumps(obj))


def _joblib(obj):
    joblib = pytest.importorskip("joblib")
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


COPIES = {"pickle": _pickle, "deepcopy": copy.deepcopy, "joblib": _joblib}


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("optimizer", [cr.optim.Adam, cr.optim.SGD, cr.optim.RMSprop])
def test_model_and_optimizer_copied_together_keep_training(how, optimizer):
    model, opt = _flat_pair(optimizer)
    reference_model, reference_opt = _flat_pair(optimizer)
    model2, opt2 = COPIES[how]((model, opt))
    before = _weights(model2)
    _step(model2, opt2, np.random.default_rng(3))
    assert _moved(before, model2)
    # The same numbers as the original pair, which was not copied.
    _step(reference_model, reference_opt, np.random.default_rng(3))
    for p, q in zip(model2.parameters(), reference_model.parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=0)
    # The original is untouched by the copy's training.
    for p, q in zip(model.parameters(), before, strict=True):
        assert not np.shares_memory(p.data, q)


def _data(classifier: bool):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) if classifier else X @ np.array([1.0, -2.0, 0.5, 0.0])
    return X, y


def _estimator(classifier: bool):
    cls = MLPClassifier if classifier else MLPRegressor
    return cls(hidden_layer_sizes=(8,), epochs=3, random_state=0, early_stopping=False)


def _coefs(est) -> list[np.ndarray]:
    return [p.data.copy() for p in est.model_.parameters()]


def _assert_partial_fit_moves(est, X, y) -> None:
    before = _coefs(est)
    est.partial_fit(X, y)
    after = _coefs(est)
    assert all(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


@pytest.mark.parametrize("classifier", [True, False])
@pytest.mark.parametrize("how", COPIES)
def test_fitted_estimator_copy_keeps_training(classifier, how):
    X, y = _data(classifier)
    est = _estimator(classifier).fit(X, y)
    twin = _estimator(classifier).fit(X, y)
    copied = COPIES[how](est)
    _assert_partial_fit_moves(copied, X, y)
    # ... by exactly what the original's next epoch does.
    twin.partial_fit(X, y)
    for a, b in zip(_coefs(copied), _coefs(twin), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("classifier", [True, False])
def test_clone_then_fit_trains(classifier):
    from sklearn.base import clone

    X, y = _data(classifier)
    est = _estimator(classifier).fit(X, y)
    copied = clone(est).fit(X, y)
    np.testing.assert_allclose(copied.predict(X), est.predict(X), rtol=1e-5, atol=1e-6)
    _assert_partial_fit_moves(copied, X, y)


@pytest.mark.parametrize("classifier", [True, False])
def test_save_load_then_partial_fit_trains(classifier, tmp_path):
    X, y = _data(classifier)
    est = _estimator(classifier).fit(X, y)
    cr.save(est, tmp_path / "m.crm")
    loaded = cr.load(tmp_path / "m.crm")
    _assert_partial_fit_moves(loaded, X, y)
