"""NeuralNetClassifier / NeuralNetRegressor: any network as a scikit-learn estimator."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import chainrule as cr
from chainrule import nn
from chainrule.estimators import NeuralNetClassifier, NeuralNetRegressor


def mlp(input_shape, n_outputs):
    """A module for any feature count (what scikit-learn's checks feed)."""
    return nn.Sequential(nn.Dense(input_shape[0], 64), nn.ReLU(), nn.Dense(64, n_outputs))


def signal_cnn(input_shape, n_outputs):
    channels = input_shape[0]
    return nn.Sequential(
        nn.Conv1d(channels, 6, 5, padding="same"),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Dense(6, n_outputs),
    )


def shifted_bumps(n=240, length=24, seed=0):
    """Class 0: a positive bump, class 1: a negative one, anywhere along the signal."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = 0.1 * rng.standard_normal((n, length))
    pos = rng.integers(2, length - 2, n)
    for i in range(n):
        X[i, pos[i] - 2 : pos[i] + 3] += (1 if y[i] == 0 else -1) * np.array([0.5, 1, 1.5, 1, 0.5])
    return X.astype(np.float32), y


class Builder:
    """A module builder whose repr is its name, not an address: the checks' test ids then
    read the same in every process, as pytest-xdist requires of its workers."""

    def __init__(self, build):
        self.build = build

    def __call__(self, input_shape, n_outputs):
        return self.build(input_shape, n_outputs)

    def __repr__(self) -> str:
        return self.build.__name__


EXACT = {
    "module": Builder(mlp),
    "epochs": 30,
    "batch_size": None,
    "learning_rate": 0.02,
    "dtype": "float64",
}
ESTIMATORS = [
    NeuralNetClassifier(**EXACT),
    NeuralNetRegressor(**EXACT),
    NeuralNetClassifier(Builder(mlp), epochs=10),
    NeuralNetRegressor(Builder(mlp), epochs=10),
]


def expected_failures(estimator):
    """As for the MLP estimators (tests/estimators/test_mlp_sklearn_checks.py), same reasons."""
    if estimator.batch_size is None and estimator.dtype == "float64":
        return {}
    failures = {
        "check_sample_weight_equivalence_on_dense_data": "float32 minibatches",
        "check_sample_weight_equivalence_on_sparse_data": "float32 minibatches",
    }
    if isinstance(estimator, NeuralNetRegressor):
        failures["check_methods_subset_invariance"] = "float32 rounding of 1-row products"
    return failures


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_a_cnn_on_flat_rows_reshaped_by_input_shape():
    X, y = shifted_bumps()
    clf = NeuralNetClassifier(signal_cnn, input_shape=(1, 24), epochs=30, random_state=0)
    clf.fit(X[:180], y[:180])
    assert clf.score(X[180:], y[180:]) > 0.9
    assert isinstance(clf.model_[0], nn.Unflatten)
    assert clf.predict_proba(X[:3]).shape == (3, 2)
    # the same seed gives the same network and the same training
    again = NeuralNetClassifier(signal_cnn, input_shape=(1, 24), epochs=30, random_state=0)
    np.testing.assert_array_equal(
        again.fit(X[:180], y[:180]).predict_proba(X), clf.predict_proba(X)
    )


def test_a_module_is_copied_and_l2_sees_conv_weights():
    X, y = shifted_bumps(n=60)
    template = signal_cnn((1, 24), 2)
    before = template.state_dict()
    clf = NeuralNetClassifier(template, input_shape=(1, 24), epochs=3, l2=0.1, random_state=0)
    clf.fit(X, y)
    assert clf.model_[1] is not template
    for k, v in template.state_dict().items():  # the template itself is not trained
        np.testing.assert_array_equal(v, before[k])
    assert "0.weight" in [n for n, _ in template.named_parameters()]
    penalized = cr.nn.penalized_weights(clf.model_)
    assert any(p.data.ndim == 3 for p in penalized)  # the Conv1d weight (O, C, k)


def test_regressor_with_a_module_and_pipeline_and_grid_search():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 12)).astype(np.float32)
    y = X[:, :6].sum(axis=1) - X[:, 6:].sum(axis=1)
    reg = NeuralNetRegressor(
        nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.Flatten(), nn.Dense(24, 1)),
        input_shape=(2, 6),
        epochs=40,
        random_state=0,
    )
    pipe = make_pipeline(StandardScaler(), reg)
    search = GridSearchCV(pipe, {"neuralnetregressor__learning_rate": [1e-3, 1e-2]}, cv=2)
    search.fit(X, y)
    assert search.best_estimator_.score(X, y) > 0.8
    assert clone(reg).get_params()["input_shape"] == (2, 6)


def test_ensemble_and_tune_accept_the_estimator():
    pytest.importorskip("optuna")
    X, y = shifted_bumps(n=120)
    base = NeuralNetClassifier(signal_cnn, input_shape=(1, 24), epochs=5)
    ens = cr.recipe.Ensemble(base, n_members=2, random_state=0).fit(X, y)
    assert ens.predict_proba(X).shape == (120, 2)
    result = cr.recipe.tune(base, {"learning_rate": [1e-3, 1e-2]}, X, y, n_trials=2, seed=0)
    assert result.best_params_["learning_rate"] in (1e-3, 1e-2)


def test_bad_modules_and_shapes_are_named():
    X, y = shifted_bumps(n=40)
    with pytest.raises(ValueError, match="input_shape"):
        NeuralNetClassifier(signal_cnn, input_shape=(2, 24), epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="module must be"):
        NeuralNetClassifier("cnn", epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="one output per class"):
        NeuralNetClassifier(lambda s, n: nn.Dense(s[0], 3), epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="does not accept"):
        NeuralNetClassifier(nn.Conv1d(2, 2, 3), input_shape=(1, 24), epochs=1).fit(X, y)


# ---------------------------------------------------------------------------- model files
def _small_cnn(shape, n_out):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dense(4 * 4 * 4, n_out),
    )


@pytest.mark.parametrize("given", ["module", "function"])
def test_fitted_neural_nets_round_trip_through_model_files(tmp_path, given):
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    module = _small_cnn((1, 8, 8), 10) if given == "module" else _small_cnn
    clf = cr.NeuralNetClassifier(module, input_shape=(1, 8, 8), epochs=2, random_state=0)
    clf.fit(X, y[:300])
    if given == "function":
        with pytest.warns(UserWarning, match="module=None"):
            cr.save(clf, tmp_path / "m")
    else:
        cr.save(clf, tmp_path / "m")
    loaded = cr.load(tmp_path / "m")
    assert type(loaded) is cr.NeuralNetClassifier and loaded.input_shape == (1, 8, 8)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.n_iter_ == clf.n_iter_ and loaded.loss_curve_ == clf.loss_curve_
    if given == "module":  # the hyperparameter itself, initial weights included, came back
        for key, value in module.state_dict().items():
            np.testing.assert_array_equal(loaded.module.state_dict()[key], value)
        refit = loaded.fit(X, y[:300]).predict_proba(X)
        np.testing.assert_array_equal(refit, clf.fit(X, y[:300]).predict_proba(X))
    else:
        assert loaded.module is None
        with pytest.raises(ValueError, match="module"):
            loaded.fit(X, y[:300])


def test_regressor_and_unfitted_neural_nets_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6)).astype(np.float32)
    y = X @ rng.normal(size=6)
    module = nn.Sequential(nn.Dense(6, 8), nn.Tanh(), nn.Dense(8, 1))
    unfitted = cr.NeuralNetRegressor(module, epochs=3, random_state=1)
    cr.save(unfitted, tmp_path / "u")
    again = cr.load(tmp_path / "u")
    assert not hasattr(again, "model_")
    reg = again.fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), unfitted.fit(X, y).predict(X))
    cr.save(reg, tmp_path / "f")
    np.testing.assert_array_equal(cr.load(tmp_path / "f").predict(X), reg.predict(X))
