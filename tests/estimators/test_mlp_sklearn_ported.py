"""scikit-learn's MLP tests (``sklearn/neural_network/tests/test_mlp.py``), ported.

Each test keeps the name of the scikit-learn test it ports; parameter names are mapped to
chainrule's (`docs/sklearn-compat.md` has the table, and lists the tests that do not apply and
why): learning_rate_init → learning_rate, max_iter → epochs, alpha → l2, solver → optimizer,
n_iter_no_change → patience, activation "logistic" → "sigmoid", coefs_ → the Dense layers of
``model_``. scikit-learn's "lbfgs" solver does not exist here; where a test used it, Adam
stands in (with the budget it needs).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import (
    load_digits,
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import MinMaxScaler, scale

from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.nn import Dense

_digits3 = load_digits(n_class=3, return_X_y=True)
X_digits_multi = MinMaxScaler().fit_transform(_digits3[0][:200])
y_digits_multi = _digits3[1][:200]
X_digits, y_digits = load_digits(n_class=2, return_X_y=True)
X_digits_binary = MinMaxScaler().fit_transform(X_digits[:200])
y_digits_binary = y_digits[:200]
classification_datasets = [(X_digits_multi, y_digits_multi), (X_digits_binary, y_digits_binary)]
X_reg, y_reg = make_regression(n_samples=200, n_features=10, bias=20.0, noise=100.0, random_state=7)
y_reg = scale(y_reg)
X_iris, y_iris = load_iris(return_X_y=True)

BOTH = pytest.mark.parametrize("MLPEstimator", [MLPClassifier, MLPRegressor])


def coefs(est):
    """scikit-learn's ``coefs_``: the weight matrices of the Dense layers."""
    return [m.weight.data for m in est.model_ if isinstance(m, Dense)]


def test_alpha():
    X, y = X_digits_binary[:100], y_digits_binary[:100]
    sums = []
    for l2 in (0.0, 1.0):
        mlp = MLPClassifier(hidden_layer_sizes=10, l2=l2, random_state=1).fit(X, y)
        sums.append(np.array([np.abs(W).sum() for W in coefs(mlp)]))
    assert (sums[0] > sums[1]).all()


def test_multilabel_classification():
    X, y = make_multilabel_classification(n_samples=50, random_state=0, return_indicator=True)
    mlp = MLPClassifier(
        hidden_layer_sizes=50, l2=1e-5, epochs=300, random_state=0, learning_rate=0.01, tol=None
    )
    assert mlp.fit(X, y).score(X, y) > 0.97
    # Adam here: scikit-learn's loss sums the labels' cross-entropies where chainrule's
    # averages them, so the same SGD step size moves 5 labels' weights 5× less.
    mlp = MLPClassifier(
        hidden_layer_sizes=50, random_state=0, activation="sigmoid", l2=1e-5, learning_rate=0.01
    )
    for _ in range(100):
        mlp.partial_fit(X, y, classes=[0, 1, 2, 3, 4])
    assert mlp.score(X, y) > 0.9
    # Early stopping works for multilabel y (its split is not stratified).
    MLPClassifier(early_stopping=True).fit(X, y).predict(X)


def test_multioutput_regression():
    X, y = make_regression(n_samples=200, n_targets=5, random_state=11)
    y = y / y.std()  # chainrule's estimators, like scikit-learn's, do not scale targets
    mlp = MLPRegressor(hidden_layer_sizes=50, epochs=200, learning_rate=0.01, random_state=1)
    assert mlp.fit(X, y).score(X, y) > 0.9


def test_partial_fit_classes_error():
    clf = MLPClassifier(optimizer="sgd")
    clf.partial_fit([[3, 2]], [0], classes=[0, 1])
    with pytest.raises(ValueError):
        clf.partial_fit([[3, 2]], [0], classes=[1, 2])


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_partial_fit_classification():
    # partial_fit gives the same model as fit, epoch for epoch.
    params = {"optimizer": "sgd", "random_state": 1, "l2": 1e-5, "learning_rate": 0.2}
    for X, y in classification_datasets:
        pred1 = MLPClassifier(**params, epochs=100, tol=None).fit(X, y).predict(X)
        mlp = MLPClassifier(**params)
        for _ in range(100):
            mlp.partial_fit(X, y, classes=np.unique(y))
        np.testing.assert_array_equal(pred1, mlp.predict(X))
        assert mlp.score(X, y) > 0.95


def test_partial_fit_unseen_classes():
    clf = MLPClassifier(random_state=0)
    clf.partial_fit([[1], [2], [3]], ["a", "b", "c"], classes=["a", "b", "c", "d"])
    clf.partial_fit([[4]], ["d"])
    assert clf.score([[1], [2], [3], [4]], ["a", "b", "c", "d"]) > 0


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])  # momentum 0 and 0.9
def test_partial_fit_regression(optimizer):
    params = {
        "optimizer": optimizer,
        "activation": "relu",
        "random_state": 1,
        "learning_rate": 0.01,
        "batch_size": None,  # scikit-learn's batch_size=X.shape[0]
    }
    pred1 = MLPRegressor(**params, epochs=100, tol=None).fit(X_reg, y_reg).predict(X_reg)
    mlp = MLPRegressor(**params)
    for _ in range(100):
        mlp.partial_fit(X_reg, y_reg)
    np.testing.assert_allclose(pred1, mlp.predict(X_reg))
    assert mlp.score(X_reg, y_reg) > 0.65


def test_partial_fit_errors():
    with pytest.raises(ValueError):
        MLPClassifier(optimizer="sgd").partial_fit([[3, 2], [1, 6]], [1, 0], classes=[2])


def test_nonfinite_params():
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(size=10)
    # scikit-learn raises a ValueError; chainrule's names the value, its place and the limit,
    # before training, in either dtype (training needs |x| ≤ √max of the dtype).
    with pytest.raises(ValueError, match="beyond what a float32 network can handle"):
        MLPRegressor().fit(X, y)
    with pytest.raises(ValueError, match="beyond what a float64 network can handle"):
        MLPRegressor(dtype="float64").fit(X, y)


def _check_proba(y_proba, y_log_proba, shape):
    assert y_proba.shape == shape
    np.testing.assert_array_equal(y_proba.argmax(axis=1), y_log_proba.argmax(axis=1))
    np.testing.assert_allclose(y_log_proba, np.log(y_proba), rtol=1e-5)


def test_predict_proba_binary():
    X, y = X_digits_binary[:50], y_digits_binary[:50]
    clf = MLPClassifier(hidden_layer_sizes=5, activation="sigmoid", random_state=1).fit(X, y)
    y_proba = clf.predict_proba(X)
    _check_proba(y_proba, clf.predict_log_proba(X), (50, 2))
    assert roc_auc_score(y, y_proba[:, 1]) == 1.0


def test_predict_proba_multiclass():
    X, y = X_digits_multi[:10], y_digits_multi[:10]
    clf = MLPClassifier(hidden_layer_sizes=5).fit(X, y)
    _check_proba(clf.predict_proba(X), clf.predict_log_proba(X), (10, np.unique(y).size))


def test_predict_proba_multilabel():
    X, Y = make_multilabel_classification(n_samples=50, random_state=0, return_indicator=True)
    clf = MLPClassifier(hidden_layer_sizes=30, epochs=300, learning_rate=0.01, random_state=0)
    y_proba = clf.fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(y_proba > 0.5, Y)
    _check_proba(y_proba, clf.predict_log_proba(X), Y.shape)
    assert (y_proba.sum(1) - 1).dot(y_proba.sum(1) - 1) > 1e-10  # no softmax across labels


def test_shuffle():
    X, y = make_regression(n_samples=50, n_features=5, n_targets=1, random_state=0)
    params = {"hidden_layer_sizes": 1, "epochs": 1, "batch_size": 1, "random_state": 0}
    for shuffle in (True, False):
        mlp1 = MLPRegressor(**params, shuffle=shuffle).fit(X, y)
        mlp2 = MLPRegressor(**params, shuffle=shuffle).fit(X, y)
        np.testing.assert_array_equal(coefs(mlp1)[0], coefs(mlp2)[0])
    mlp1 = MLPRegressor(**params, shuffle=True).fit(X, y)
    mlp2 = MLPRegressor(**params, shuffle=False).fit(X, y)
    assert not np.array_equal(coefs(mlp1)[0], coefs(mlp2)[0])


def test_sparse_matrices():
    sp = pytest.importorskip("scipy.sparse")
    X, y = X_digits_binary[:50], y_digits_binary[:50]
    mlp = MLPClassifier(hidden_layer_sizes=15, random_state=1)
    pred1 = mlp.fit(X, y).predict(X)
    pred2 = mlp.fit(sp.csr_matrix(X), y).predict(sp.csr_matrix(X))
    np.testing.assert_array_equal(pred1, pred2)
    np.testing.assert_array_equal(mlp.predict(X), mlp.predict(sp.csr_matrix(X)))


def test_tolerance():
    clf = MLPClassifier(tol=0.5, epochs=3000, optimizer="sgd").fit([[3, 2], [1, 6]], [1, 0])
    assert clf.epochs > clf.n_iter_


def test_verbose_sgd(capsys):
    X, y = [[3, 2], [1, 6]], [1, 0]
    clf = MLPClassifier(optimizer="sgd", epochs=2, verbose=True, hidden_layer_sizes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    clf.partial_fit(X, y)
    out, _ = capsys.readouterr()  # not a terminal: one line per epoch, as scikit-learn's
    assert out.count("Iteration") == 3
    assert re.search(r"^Iteration 2, loss = \d+\.\d{8}$", out, re.MULTILINE)


@BOTH
def test_early_stopping(MLPEstimator):
    X, y = X_digits_binary[:100], y_digits_binary[:100]
    tol = 0.2
    est = MLPEstimator(tol=tol, epochs=3000, optimizer="sgd", early_stopping=True).fit(X, y)
    assert est.epochs > est.n_iter_
    # Differs on purpose: best_loss_ is the least training loss here, never None.
    scores = est.validation_scores_
    assert isinstance(scores, list) and max(scores) == est.best_validation_score_
    assert est.best_validation_score_ + tol > scores[-2]
    assert est.best_validation_score_ + tol > scores[-1]
    est = MLPEstimator(tol=tol, epochs=3000, optimizer="sgd", early_stopping=False).fit(X, y)
    assert est.validation_scores_ is None and est.best_validation_score_ is None


def test_warm_start():
    X, y = X_iris, y_iris
    params = {"hidden_layer_sizes": 2, "warm_start": True, "random_state": 42, "tol": 1e-2}
    clf = MLPClassifier(**params).fit(X, y)
    clf.fit(X, y)
    clf.fit(X, np.array([0] * 40 + [1] * 40 + [2] * 70))  # the same classes: no error
    for y_i in (
        np.array([0] * 75 + [1] * 75),
        np.array([0] * 50 + [1] * 50 + [3] * 50),
        np.array([0] * 37 + [1] * 37 + [2] * 38 + [3] * 38),
        np.array([0] * 30 + [1] * 30 + [2] * 30 + [3] * 30 + [4] * 30),
    ):
        clf = MLPClassifier(**params).fit(X, y)
        message = (
            "warm_start can only be used where `y` has the same classes as in the previous "
            f"call to fit. Previously got [0 1 2], `y` has {np.unique(y_i)}"
        )
        with pytest.raises(ValueError, match=re.escape(message)):
            clf.fit(X, y_i)


@BOTH
def test_warm_start_full_iteration(MLPEstimator):
    clf = MLPEstimator(hidden_layer_sizes=2, optimizer="sgd", warm_start=True, epochs=3)
    clf.fit(X_iris, y_iris)
    assert clf.n_iter_ == 3
    clf.fit(X_iris, y_iris)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 6


@pytest.mark.parametrize("patience", [2, 5, 10, 50, 100])
@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_n_iter_no_change(patience):
    X, y = X_digits_binary[:100], y_digits_binary[:100]
    clf = MLPClassifier(tol=0.01, epochs=3000, optimizer="sgd", patience=patience).fit(X, y)
    assert clf.epochs > clf.n_iter_ > patience


def test_n_iter_no_change_inf():
    # scikit-learn's n_iter_no_change=inf is tol=None here: no stopping rule, all epochs run.
    X, y = X_digits_binary[:100], y_digits_binary[:100]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # nothing promised convergence
        clf = MLPClassifier(tol=None, epochs=300, optimizer="sgd").fit(X, y)
    assert clf.n_iter_ == 300


def test_early_stopping_stratified():
    mlp = MLPClassifier(early_stopping=True)
    with pytest.raises(
        ValueError,
        match=r"The least populated classes in y have only 1 member.*Classes with "
        r"too few members are: \['1'\]",
    ):
        mlp.fit([[1, 2], [2, 3], [3, 4], [4, 5]], [0, 0, 0, 1])


def test_mlp_early_stopping_string_labels():
    X, y = make_classification(
        n_samples=200, n_features=10, n_classes=3, n_informative=5, random_state=42
    )
    y = np.array(["class_a", "class_b", "class_c"], dtype=object)[y]
    mlp = MLPClassifier(early_stopping=True, epochs=50, random_state=42).fit(X, y)
    assert len(mlp.validation_scores_) == mlp.n_iter_
    assert np.isfinite(mlp.validation_scores_).all()


def test_mlp_classifier_dtypes_casting():
    params = {"l2": 1e-5, "hidden_layer_sizes": (5, 3), "random_state": 1, "epochs": 100}
    mlp_64 = MLPClassifier(**params, tol=1e-1).fit(X_digits[:300], y_digits[:300])
    X32 = X_digits.astype(np.float32)
    mlp_32 = MLPClassifier(**params, tol=1e-1).fit(X32[:300], y_digits[:300])
    np.testing.assert_array_equal(mlp_64.predict(X_digits[300:]), mlp_32.predict(X32[300:]))
    np.testing.assert_allclose(
        mlp_64.predict_proba(X_digits[300:]), mlp_32.predict_proba(X32[300:]), rtol=1e-2
    )


def test_mlp_regressor_dtypes_casting():
    params = {"l2": 1e-5, "hidden_layer_sizes": (5, 3), "random_state": 1, "epochs": 150}
    pred_64 = MLPRegressor(**params).fit(X_digits[:300], y_digits[:300]).predict(X_digits[300:])
    X32 = X_digits.astype(np.float32)
    pred_32 = MLPRegressor(**params).fit(X32[:300], y_digits[:300]).predict(X32[300:])
    np.testing.assert_allclose(pred_64, pred_32, rtol=5e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@BOTH
def test_mlp_param_dtypes(dtype, MLPEstimator):
    # The parameters' dtype is the `dtype` hyperparameter here (scikit-learn follows X's);
    # predictions come back in X's floating dtype, as in scikit-learn.
    X = X_digits.astype(dtype)
    params = {"l2": 1e-5, "hidden_layer_sizes": (5, 3), "random_state": 1, "epochs": 50}
    mlp = MLPEstimator(**params, tol=1e-1, dtype=np.dtype(dtype).name).fit(X[:300], y_digits[:300])
    assert all(p.data.dtype == dtype for p in mlp.model_.parameters())
    if MLPEstimator is MLPRegressor:
        assert mlp.predict(X[300:]).dtype == dtype


@BOTH
def test_preserve_feature_names(MLPEstimator):
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(data=rng.randn(10, 2), columns=["colname_a", "colname_b"])
    y = pd.Series(data=np.arange(10) % 2, name="colname_y")
    model = MLPEstimator(early_stopping=True, validation_fraction=0.2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the feature-names warning
        # ConvergenceWarning is a UserWarning too; whether 200 epochs converge is not the point.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)


@BOTH
def test_mlp_warm_start_with_early_stopping(MLPEstimator):
    mlp = MLPEstimator(epochs=10, random_state=0, warm_start=True, early_stopping=True)
    mlp.fit(X_iris, y_iris)
    n_validation_scores = len(mlp.validation_scores_)
    mlp.set_params(epochs=20).fit(X_iris, y_iris)
    assert len(mlp.validation_scores_) > n_validation_scores


@BOTH
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mlp_warm_start_no_convergence(MLPEstimator, optimizer):
    # scikit-learn's n_iter_no_change=inf: a patience longer than the budget.
    model = MLPEstimator(
        optimizer=optimizer, warm_start=True, epochs=10, patience=1000, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X_iris, y_iris)
    assert model.n_iter_ == 10
    model.set_params(epochs=20)
    with pytest.warns(ConvergenceWarning):
        model.fit(X_iris, y_iris)
    assert model.n_iter_ == 20


@BOTH
def test_mlp_partial_fit_after_fit(MLPEstimator):
    mlp = MLPEstimator(early_stopping=True, random_state=0).fit(X_iris, y_iris)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        mlp.partial_fit(X_iris, y_iris)


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_mlp_sample_weight_with_early_stopping():
    X, y = make_regression(n_samples=100, n_features=2, n_informative=2, random_state=42)
    params = {
        "hidden_layer_sizes": 10,
        "early_stopping": True,
        "tol": 1e-2,
        "learning_rate": 0.01,
        "batch_size": 10,
        "random_state": 42,
    }
    m1 = MLPRegressor(**params).fit(X, y, sample_weight=np.ones_like(y))
    m2 = MLPRegressor(**params).fit(X, y, sample_weight=None)
    np.testing.assert_allclose(m1.predict(X), m2.predict(X))


def test_minimum_input_sample_size():
    X, y = make_regression(n_samples=2, n_features=5, random_state=0)
    with pytest.raises(ValueError, match="The validation set is too small"):
        MLPRegressor(early_stopping=True, random_state=0).fit(X, y)


# ---------------------------------------------------------------- the ConvergenceWarning itself
@BOTH
def test_convergence_warning_only_when_the_budget_ends_first(MLPEstimator):
    X, y = X_digits_binary[:100], y_digits_binary[:100]
    with pytest.warns(ConvergenceWarning, match="ran all epochs=3"):
        MLPEstimator(epochs=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MLPEstimator(epochs=3, tol=None, random_state=0).fit(X, y)  # no rule: no promise
        MLPEstimator(epochs=3, random_state=0).partial_fit(X, y, **_classes(MLPEstimator, y))
        stopped = MLPEstimator(epochs=500, early_stopping=True, patience=2, random_state=0)
        assert stopped.fit(X, y).n_iter_ < 500  # stopped by its rule: converged


def _classes(cls, y):
    return {"classes": np.unique(y)} if cls is MLPClassifier else {}
