"""`class_weight` of MLPClassifier: scikit-learn's semantics, combined with sample_weight."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_sample_weight

import chainrule as cr
from chainrule.estimators import MLPClassifier

FAST = {"hidden_layer_sizes": (8,), "epochs": 5, "random_state": 0, "tol": None}


@pytest.fixture
def imbalanced():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    y = np.array(["no"] * 100 + ["yes"] * 20)
    X[y == "yes"] += 0.7
    return X, y


def _weights(est):
    return [p.data.copy() for p in est.model_.parameters()]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))


def test_dict_is_the_same_as_the_sample_weights_it_implies(imbalanced):
    X, y = imbalanced
    by_class = MLPClassifier(**FAST, class_weight={"yes": 5.0}).fit(X, y)
    by_sample = MLPClassifier(**FAST).fit(X, y, sample_weight=np.where(y == "yes", 5.0, 1.0))
    assert _same(by_class, by_sample)
    assert not _same(by_class, MLPClassifier(**FAST).fit(X, y))


def test_balanced_is_scikit_learns_balanced(imbalanced):
    X, y = imbalanced
    balanced = MLPClassifier(**FAST, class_weight="balanced").fit(X, y)
    expected = compute_sample_weight("balanced", y)  # n / (k · n_c)
    assert _same(balanced, MLPClassifier(**FAST).fit(X, y, sample_weight=expected))


def test_class_and_sample_weights_multiply(imbalanced):
    X, y = imbalanced
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    both = MLPClassifier(**FAST, class_weight={"yes": 3.0, "no": 0.5}).fit(X, y, sample_weight=sw)
    product = sw * np.where(y == "yes", 3.0, 0.5)
    assert _same(both, MLPClassifier(**FAST).fit(X, y, sample_weight=product))


def test_balanced_weights_find_the_minority_class(imbalanced):
    X, y = imbalanced
    params = {**FAST, "epochs": 30}
    plain = MLPClassifier(**params).fit(X, y)
    balanced = MLPClassifier(**params, class_weight="balanced").fit(X, y)
    recall = [np.mean(m.predict(X[y == "yes"]) == "yes") for m in (plain, balanced)]
    assert recall[1] > recall[0]


def test_bad_class_weights_are_clear_errors(imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match="not classes"):
        MLPClassifier(**FAST, class_weight={"maybe": 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="class_weight must be None, 'balanced' or a dict"):
        MLPClassifier(**FAST, class_weight="even").fit(X, y)
    with pytest.raises(ValueError, match="non-negative number"):
        MLPClassifier(**FAST, class_weight={"yes": -1.0}).fit(X, y)
    with pytest.raises(ValueError, match="weight 0"):
        MLPClassifier(**FAST, class_weight={"yes": 0.0, "no": 0.0}).fit(X, y)
    with pytest.raises(ValueError, match="not supported for partial_fit"):
        MLPClassifier(**FAST, class_weight="balanced").partial_fit(X, y, classes=["no", "yes"])
    with pytest.raises(ValueError, match="multilabel"):
        indicator = np.eye(2, dtype=int)[(y == "yes").astype(int)]
        MLPClassifier(**FAST, class_weight="balanced").fit(X, indicator)


def test_partial_fit_takes_a_dict(imbalanced):
    X, y = imbalanced
    est = MLPClassifier(**FAST, class_weight={"yes": 5.0})
    est.partial_fit(X, y, classes=["no", "yes"])
    ref = MLPClassifier(**FAST)
    ref.partial_fit(X, y, classes=["no", "yes"], sample_weight=np.where(y == "yes", 5.0, 1.0))
    assert _same(est, ref)


def test_class_weight_survives_a_model_file(tmp_path, imbalanced):
    X, _ = imbalanced
    y = np.r_[np.zeros(100, int), np.ones(20, int)]
    est = MLPClassifier(**FAST, class_weight={1: 4.0}).fit(X, y)
    cr.save(est, tmp_path / "m.chainrule")
    loaded = cr.load(tmp_path / "m.chainrule")
    assert loaded.get_params()["class_weight"] == {1: 4.0}  # an int label stays an int
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
