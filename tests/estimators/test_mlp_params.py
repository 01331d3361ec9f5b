"""Hyperparameters: stored untouched by __init__, checked at fit with the valid choices named."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone

from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.estimators.params import resolve_init, validate

X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
Y_CLASS = np.arange(20) % 2
Y_REG = X[:, 0]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"activation": "softplus"}, "'relu', 'leaky_relu', 'tanh', 'sigmoid'"),
        ({"optimizer": "lbfgs"}, "'sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adamw'"),
        ({"init": "glorot_bad"}, "'auto', 'zeros', 'normal', 'xavier', 'he'"),
        ({"lr_schedule": "linear"}, "'constant', 'step', 'exponential', 'cosine', 'plateau'"),
        ({"dtype": "float16"}, "'float32', 'float64'"),
        ({"hidden_layer_sizes": (10, 0)}, "positive integers"),
        ({"hidden_layer_sizes": "100"}, "tuple of positive integers"),
        ({"learning_rate": 0.0}, "learning_rate must be in (0.0, inf)"),
        ({"learning_rate": float("nan")}, "learning_rate must be a real number"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"l1": -1.0}, "l1 must be in [0.0, inf)"),
        ({"l2": "big"}, "l2 must be a real number"),
        ({"dropout": 1.0}, "dropout must be in [0.0, 1.0)"),
        ({"validation_fraction": 1.0}, "validation_fraction must be in (0.0, 1.0)"),
        ({"patience": 0}, "patience must be a positive integer"),
        ({"tol": -1e-3}, "tol must be in [0.0, inf)"),
        ({"batch_norm": "yes"}, "batch_norm must be True or False"),
        ({"warm_start": None}, "warm_start must be True or False"),
        ({"random_state": "seed"}, "random_state must be None, an int"),
        ({"callbacks": 3}, "callbacks must be a list"),
    ],
)
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_bad_hyperparameter_raises_at_fit_naming_the_choices(Estimator, params, message):
    estimator = Estimator(**params)  # __init__ accepts anything (scikit-learn's rule)
    assert estimator.get_params()[next(iter(params))] is params[next(iter(params))]
    y = Y_CLASS if Estimator is MLPClassifier else Y_REG
    with pytest.raises(ValueError) as info:
        estimator.fit(X, y)
    assert message in str(info.value)
    assert not hasattr(estimator, "model_")


def test_regressor_loss_choices():
    with pytest.raises(ValueError, match="'squared_error', 'mse'"):
        MLPRegressor(loss="huber").fit(X, Y_REG)


def test_names_are_case_insensitive_and_resolved():
    config = validate(MLPClassifier(activation="ReLU", optimizer="Adam").get_params())
    assert (config.activation, config.optimizer) == ("relu", "adam")
    assert config.dtype == np.float32 and config.lr_schedule == "constant"
    assert validate(MLPClassifier(dtype=np.float64).get_params()).dtype == np.float64
    assert validate(MLPClassifier(hidden_layer_sizes=7).get_params()).hidden_layer_sizes == (7,)


@pytest.mark.parametrize(
    ("activation", "n_hidden", "expected"),
    [("relu", 1, "xavier"), ("relu", 3, "he"), ("leaky_relu", 4, "he"), ("tanh", 5, "xavier")],
)
def test_auto_init_depends_on_activation_and_depth(activation, n_hidden, expected):
    assert resolve_init("auto", activation, n_hidden) == expected
    assert resolve_init("zeros", activation, n_hidden) == "zeros"


def test_init_only_stores_and_clone_round_trips():
    callbacks = []
    estimator = MLPClassifier(hidden_layer_sizes=[5, 4], callbacks=callbacks, random_state=3)
    params = estimator.get_params()
    assert params["hidden_layer_sizes"] == [5, 4] and params["callbacks"] is callbacks
    twin = clone(estimator)
    assert twin.get_params()["hidden_layer_sizes"] == [5, 4]
    assert twin.get_params()["random_state"] == 3
    assert "loss" in MLPRegressor().get_params() and "loss" not in params
