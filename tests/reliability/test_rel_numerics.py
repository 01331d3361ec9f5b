"""Promise 6: the squashing functions and the losses built on them stay finite, without a
single floating-point warning, for inputs of ±1e4 and ±1e30 (and ±1e300 in float64).

Each check runs under ``np.errstate(over="raise", invalid="raise", divide="raise")``, stricter
than the suite's RuntimeWarning-as-error setting: an overflow anywhere raises. (Underflow to
0, as in exp(-1e4), is exact enough and NumPy's default ignores it.) The values are checked
against the closed forms, not only for being finite.

Known limit: softmax and the cross-entropy shift logits by their maximum, so logits whose
spread exceeds the largest float (±2e38 in float32) overflow in that subtraction.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional as F
from chainrule.nn.losses import binary_cross_entropy, cross_entropy

SCALES = [(np.float32, 1e4), (np.float32, 1e30), (np.float64, 1e4), (np.float64, 1e30)]
SCALES += [(np.float64, 1e300)]
IDS = [f"{np.dtype(d).name}-{s:g}" for d, s in SCALES]


def _logits(dtype, big):
    """Rows with extreme values of both signs, ties at the extremes, and a zero."""
    return np.array(
        [[-big, 0.0, big], [big, big, -big], [-big, -big, -big], [big, 0.0, 0.0]], dtype=dtype
    )


def _grad(fn, a):
    t = cr.Tensor(a, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = fn(t)
        weights = np.arange(1, out.data.size + 1, dtype=a.dtype).reshape(out.shape)
        (out * cr.Tensor(weights)).sum().backward()
    assert out.dtype == a.dtype and t.grad.dtype == a.dtype
    assert np.isfinite(out.data).all() and np.isfinite(t.grad).all()
    return out.data, t.grad


@pytest.mark.parametrize(("dtype", "big"), SCALES, ids=IDS)
def test_sigmoid_and_tanh_saturate_cleanly(dtype, big):
    a = _logits(dtype, big)
    for fn in (lambda t: t.sigmoid(), F.sigmoid, cr.nn.Sigmoid()):
        out, grad = _grad(fn, a)
        np.testing.assert_array_equal(out[a == big], 1.0)
        np.testing.assert_array_equal(out[a == -big], 0.0)
        np.testing.assert_array_equal(out[a == 0], 0.5)
        np.testing.assert_array_equal(grad[a != 0], 0.0)  # σ' = σ(1 − σ) = 0 when saturated
    for fn in (lambda t: t.tanh(), F.tanh, cr.nn.Tanh()):
        out, grad = _grad(fn, a)
        np.testing.assert_array_equal(out, np.sign(a))
        np.testing.assert_array_equal(grad[a != 0], 0.0)


@pytest.mark.parametrize(("dtype", "big"), SCALES, ids=IDS)
def test_softmax_and_log_softmax_of_extreme_logits(dtype, big):
    a = _logits(dtype, big)
    for fn in (F.softmax, cr.nn.Softmax()):
        p, _ = _grad(fn, a)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(p[0], [0.0, 0.0, 1.0])
        np.testing.assert_allclose(p[1], [0.5, 0.5, 0.0])
        np.testing.assert_allclose(p[2], [1 / 3] * 3, rtol=1e-6)
    log_p, _ = _grad(F.log_softmax, a)
    # log softmax(a)ᵢ = aᵢ − max a − log Σ exp(a − max a): exactly −2·big and −big in row 0.
    np.testing.assert_allclose(log_p[0], [-2 * big, -big, 0.0], rtol=1e-6)
    np.testing.assert_allclose(log_p[1, :2], -np.log(2.0), rtol=1e-6)
    np.testing.assert_allclose(log_p[2], -np.log(3.0), rtol=1e-6)


def _bce_exact(a: np.ndarray, t: np.ndarray) -> float:
    # E = mean of max(a, 0) − a t + log(1 + e^{−|a|}), the stable form of the BCE of σ(a)
    a64, t64 = a.astype(np.float64), t.astype(np.float64)
    return float(np.mean(np.maximum(a64, 0) - a64 * t64 + np.log1p(np.exp(-np.abs(a64)))))


@pytest.mark.parametrize(("dtype", "big"), SCALES, ids=IDS)
def test_binary_cross_entropy_with_logits(dtype, big):
    a = _logits(dtype, big)
    t = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 1, 1]], dtype=dtype)
    for loss in (cr.nn.BinaryCrossEntropy(), binary_cross_entropy):
        t_a = cr.Tensor(a, requires_grad=True)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            E = loss(t_a, t)
            E.backward()
        assert np.isfinite(E.item()) and np.isfinite(t_a.grad).all()
        np.testing.assert_allclose(E.item(), _bce_exact(a, t), rtol=1e-6)
        # ∂E/∂a = (σ(a) − t)/N: exactly 0 where the logit is right, ±1/N where it is wrong.
        expected = (np.where(a > 0, 1.0, np.where(a < 0, 0.0, 0.5)) - t) / a.size
        np.testing.assert_allclose(t_a.grad, expected, rtol=1e-6)


@pytest.mark.parametrize(("dtype", "big"), SCALES, ids=IDS)
def test_cross_entropy_of_extreme_logits(dtype, big):
    a = _logits(dtype, big)
    labels = np.array([0, 2, 1, 0])
    # Per row: logsumexp(a) − a_y = 2·big, 2·big + log 2, log 3 and log(1 + 2e^−big) ≈ 0.
    expected = np.array([2 * big, 2 * big + np.log(2), np.log(3), 0.0]).mean()
    for loss in (cr.nn.CrossEntropyLoss(), cross_entropy):
        t_a = cr.Tensor(a, requires_grad=True)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            E = loss(t_a, labels)
            E.backward()
        np.testing.assert_allclose(E.item(), expected, rtol=1e-6)
        assert np.isfinite(t_a.grad).all()
        np.testing.assert_allclose(t_a.grad.sum(axis=1), 0.0, atol=1e-6)  # softmax − one-hot


@pytest.mark.parametrize("big", [1e4, 1e30])
def test_estimators_predict_finite_probabilities_for_extreme_inputs(big):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    for y in ((X[:, 0] > 0).astype(int), np.digitize(X[:, 0], [-0.5, 0.5])):  # 2 and 3 classes
        clf = cr.MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", epochs=5)
        clf.set_params(random_state=0).fit(X, y)
        extreme = np.array([[big, -big, big], [-big, big, -big], [0, 0, 0]], dtype=np.float32)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            p = clf.predict_proba(extreme)
            labels = clf.predict(extreme)
        assert np.isfinite(p).all() and np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
        assert set(labels) <= set(clf.classes_)
