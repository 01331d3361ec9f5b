"""`chainrule.estimators.inference.Predictor` answers as the estimator it was saved from,
without it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

import chainrule as cr
from chainrule.estimators.inference import Predictor
from chainrule.saving.modelfile import read_header

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 5))


def _predictor(est, tmp_path) -> Predictor:
    cr.save(est, tmp_path / "m.chainrule")
    meta, arrays = read_header(tmp_path / "m.chainrule")
    return Predictor.from_record(meta["estimator"], arrays)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_classifier(tmp_path, dtype) -> None:
    y = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1)]
    est = cr.MLPClassifier(hidden_layer_sizes=(8,), epochs=5, dtype=dtype, random_state=0)
    est.fit(X, y)
    p = _predictor(est, tmp_path)
    Z = X.astype(dtype)
    assert np.array_equal(p.predict_proba(Z), est.predict_proba(Z))
    assert p.predict_proba(Z).dtype == est.predict_proba(Z).dtype
    assert np.array_equal(p.predict(Z), est.predict(Z))
    assert p.classes_.tolist() == est.classes_.tolist()


def test_multilabel_classifier(tmp_path) -> None:
    Y = (X[:, :3] > 0).astype(int)
    est = cr.MLPClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=0).fit(X, Y)
    p = _predictor(est, tmp_path)
    Z = X.astype(np.float32)
    assert np.array_equal(p.predict_proba(Z), est.predict_proba(Z))
    assert np.array_equal(p.predict(Z), est.predict(Z))


@pytest.mark.parametrize("targets", [1, 2])
def test_regressor(tmp_path, targets) -> None:
    y = X[:, :targets] @ np.ones(targets) if targets == 1 else X[:, :targets]
    est = cr.MLPRegressor(hidden_layer_sizes=(8,), epochs=5, random_state=0).fit(X, y)
    p = _predictor(est, tmp_path)
    Z = X.astype(np.float32)
    assert np.array_equal(p.predict(Z), est.predict(Z))
    assert p.predict(Z).shape == est.predict(Z).shape
    with pytest.raises(AttributeError):
        p.predict_proba(Z)


def test_it_takes_only_a_validated_matrix(tmp_path) -> None:
    est = cr.MLPRegressor(hidden_layer_sizes=(4,), epochs=2).fit(X, X[:, 0])
    p = _predictor(est, tmp_path)
    for bad in (X[:, :4].astype(np.float32), X.tolist(), X.astype(int)):
        with pytest.raises(TypeError):
            p.predict(bad)
    with pytest.raises(ValueError):
        p.predict(np.full((2, 5), np.nan, dtype=np.float32))


def test_a_malformed_record_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown class"):
        Predictor.from_record({"class": "os.system"}, {})
    with pytest.raises(ValueError, match="fitted state"):
        Predictor.from_record({"class": "MLPRegressor", "fitted": None}, {})
