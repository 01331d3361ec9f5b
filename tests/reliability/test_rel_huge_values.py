"""Finite values too large for the network: refused with a ValueError before any work.

Training refuses inputs and regression targets beyond √M (M the dtype's largest float:
1.8e19 in float32, 1.3e154 in float64), whose squares overflow; prediction refuses inputs
beyond M, which would become ∞ in the network's dtype. No NumPy warning may appear first
(pytest turns RuntimeWarnings into errors).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3))
Y = X[:, 0] - X[:, 1]
LABELS = (Y > 0).astype(int)


def _with(a: np.ndarray, index: tuple[int, ...], value: float) -> np.ndarray:
    a = a.copy()
    a[index] = value
    return a


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("value", [1e300, -1e200])
def test_a_huge_regression_target_is_refused_before_training(dtype: str, value: float) -> None:
    est = cr.MLPRegressor(epochs=2, random_state=0, dtype=dtype)
    with pytest.raises(ValueError, match=r"y holds .* at row 5, beyond what a float"):
        est.fit(X, _with(Y, (5,), value))
    assert not hasattr(est, "model_")


@pytest.mark.parametrize("cls", [cr.MLPClassifier, cr.MLPRegressor])
def test_a_huge_feature_is_refused_naming_its_column(cls) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_with(X, (4, 2), 1e300), columns=["a", "b", "c"])
    est = cls(epochs=2, random_state=0)
    with pytest.raises(ValueError, match=r"X holds 1e\+300 at row 4, column 'c'"):
        est.fit(frame, LABELS if cls is cr.MLPClassifier else Y)
    assert not hasattr(est, "model_")


def test_inputs_beyond_float32_at_prediction_are_refused_not_answered_as_class_0() -> None:
    clf = cr.MLPClassifier(epochs=3, random_state=0).fit(X, LABELS)
    big = _with(X[:5], (1, 2), 1e39)  # finite float64, ∞ in float32
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba):
        with pytest.raises(ValueError, match=r"X holds 1e\+39 at row 1, column 2.*float32"):
            method(big)
    reg = cr.MLPRegressor(epochs=3, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match="float32"):
        reg.predict(big)
    # ±1e30 fits float32 and still predicts finite probabilities (docs/reliability.md §6).
    p = clf.predict_proba(_with(X[:5], (1, 2), 1e30))
    assert np.isfinite(p).all()


def test_a_float64_network_takes_what_float32_refuses() -> None:
    big = _with(X, (3, 0), 1e30)
    reg = cr.MLPRegressor(epochs=2, random_state=0, dtype="float64", learning_rate=1e-6)
    reg.fit(big, Y)
    assert np.isfinite(reg.predict(_with(X[:4], (1, 1), 1e39))).all()
