"""MLPRegressor: output shapes, the two losses, the starting bias, weights, continuation."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_regression

from chainrule.estimators import MLPRegressor
from chainrule.estimators.regressor import r2

FAST = {"hidden_layer_sizes": (32,), "epochs": 60, "learning_rate": 0.01, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    return X.astype(np.float32), (y / y.std()).astype(np.float32)


def test_single_output(data):
    X, y = data
    reg = MLPRegressor(**FAST).fit(X, y)
    prediction = reg.predict(X)
    assert prediction.shape == (200,) and prediction.dtype == np.float32
    assert reg.n_outputs_ == 1 and reg.n_features_in_ == 5
    assert reg.score(X, y) > 0.95
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_multi_output(data):
    X, y = data
    Y = np.column_stack([y, -2 * y, X[:, 0]])
    reg = MLPRegressor(**FAST).fit(X, Y)
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == (200, 3)
    assert reg.score(X, Y) > 0.95
    with pytest.raises(ValueError, match="3"):
        reg.partial_fit(X, y)


def test_squared_error_is_half_the_mse_per_output(data):
    # With a negligible η the first epoch's loss is the loss of the initial network: the
    # lecture's E = ½ Σ (ŷ − y)² is half of the MSE for one output.
    X, y = data
    params = {**FAST, "epochs": 1, "learning_rate": 1e-12, "l2": 0.0}
    half = MLPRegressor(loss="squared_error", **params).fit(X, y).loss_curve_[0]
    mse = MLPRegressor(loss="mse", **params).fit(X, y).loss_curve_[0]
    assert mse == pytest.approx(2 * half, rel=1e-5)
    initial = MLPRegressor(loss="mse", **params).fit(X, y).predict(X)
    assert mse == pytest.approx(np.mean((initial - y) ** 2), rel=1e-4)


def test_output_bias_starts_at_the_target_mean(data):
    X, y = data
    Y = np.column_stack([y + 100, y - 50])
    reg = MLPRegressor(**{**FAST, "epochs": 1, "learning_rate": 1e-12}).fit(X, Y)
    np.testing.assert_allclose(reg.model_[-1].bias.data, Y.mean(axis=0), rtol=1e-5)


def test_sample_weight_gives_the_weighted_mean():
    # Inputs that cannot tell the samples apart: the best prediction is the weighted mean.
    X = np.zeros((20, 2), np.float32)
    y = np.array([0.0] * 10 + [1.0] * 10)
    weights = np.array([1.0] * 10 + [3.0] * 10)
    params = {**FAST, "optimizer": "sgd"}
    assert MLPRegressor(**params).fit(X, y).predict(X[:1])[0] == pytest.approx(0.5, abs=1e-5)
    weighted = MLPRegressor(**params).fit(X, y, sample_weight=weights)
    assert weighted.predict(X[:1])[0] == pytest.approx(0.75, abs=1e-5)


def test_partial_fit_and_warm_start(data):
    X, y = data
    reg = MLPRegressor(**FAST)
    for _ in range(20):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 20  # n_iter_: the last call's epochs
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    assert reg.score(X, y) > 0.8
    warm = MLPRegressor(**{**FAST, "epochs": 10, "tol": 0}).fit(X, y)
    model = warm.model_
    warm.set_params(warm_start=True).fit(X, y)
    assert warm.model_ is model and warm.n_iter_ == 10 and len(warm.loss_curve_) == 20


def test_early_stopping_scores_are_r2(data):
    X, y = data
    reg = MLPRegressor(**FAST, early_stopping=True, validation_fraction=0.2).fit(X, y)
    assert len(reg.validation_scores_) == reg.n_iter_
    assert reg.best_validation_score_ > 0.9


def test_float64_input_gives_float64_predictions(data):
    X, y = data
    reg = MLPRegressor(**FAST).fit(X, y)
    assert reg.predict(X.astype(np.float64)).dtype == np.float64
    np.testing.assert_allclose(reg.predict(X.astype(np.float64)), reg.predict(X), rtol=1e-6)


def test_r2_matches_scikit_learn():
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    y, p, w = rng.normal(size=(30, 2)), rng.normal(size=(30, 2)), rng.random(30)
    assert r2(y, p) == pytest.approx(r2_score(y, p))
    assert r2(y, p, w) == pytest.approx(r2_score(y, p, sample_weight=w))
    assert r2(np.ones(5), np.ones(5)) == 1.0
