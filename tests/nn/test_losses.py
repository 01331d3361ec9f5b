"""Losses against their formulas, gradient checks, stability, options and input checks."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import (
    LOSSES,
    BinaryCrossEntropy,
    CrossEntropyLoss,
    MSELoss,
    SquaredError,
    get_loss,
)
from chainrule.nn import functional as F


@pytest.fixture
def regression(rng):
    return rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.uniform(0.1, 2.0, size=5)


@pytest.fixture
def classification(rng):
    return rng.normal(size=(6, 4)) * 2, np.array([0, 3, 1, 1, 2, 0]), rng.uniform(0.2, 1, 6)


def _softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------- regression losses
def test_squared_error_is_the_lectures_half_sum_averaged_over_samples(regression):
    pred, y, s = regression
    E = SquaredError()(cr.Tensor(pred), y)
    per_sample = 0.5 * ((pred - y) ** 2).sum(axis=1)
    np.testing.assert_allclose(E.item(), per_sample.mean())
    weighted = SquaredError()(cr.Tensor(pred), y, sample_weight=s)
    np.testing.assert_allclose(weighted.item(), (s * per_sample).sum() / s.sum())


def test_mse_is_mean_over_all_elements(regression):
    pred, y, s = regression
    np.testing.assert_allclose(MSELoss()(cr.Tensor(pred), y).item(), ((pred - y) ** 2).mean())
    per_sample = ((pred - y) ** 2).mean(axis=1)
    weighted = MSELoss()(cr.Tensor(pred), cr.Tensor(y), sample_weight=s)
    np.testing.assert_allclose(weighted.item(), (s * per_sample).sum() / s.sum())


@pytest.mark.parametrize("loss", [F.squared_error, F.mse_loss])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_losses_pass_grad_check(loss, weighted, regression):
    pred, y, s = regression
    sw = s if weighted else None
    result = cr.grad_check(lambda p, t: loss(p, t, sample_weight=sw), [pred, y])
    assert result, result.report()  # target tensors that require grad get −∂E/∂ŷ


def test_squared_error_gradient_is_residual_over_n(regression):
    pred, y, _ = regression
    p = cr.Tensor(pred, requires_grad=True)
    SquaredError()(p, y).backward()
    np.testing.assert_allclose(p.grad, (pred - y) / len(pred))


def test_column_prediction_against_flat_target():
    pred = cr.Tensor(np.array([[1.0], [2.0], [4.0]]), requires_grad=True)
    E = MSELoss()(pred, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(E.item(), (0 + 1 + 9) / 3)
    E.backward()
    assert pred.grad.shape == (3, 1)


def test_float32_stays_float32():
    pred = cr.Tensor(np.ones((4, 2), np.float32), requires_grad=True)
    for loss in (SquaredError(), MSELoss(), BinaryCrossEntropy()):
        E = loss(pred, np.zeros((4, 2)), sample_weight=np.ones(4))
        assert E.dtype == np.float32
        E.backward()
        assert pred.grad.dtype == np.float32
        pred.grad = None
    E = CrossEntropyLoss(weight=[1, 2], label_smoothing=0.1)(pred, np.array([0, 1, 1, 0]))
    assert E.dtype == np.float32


@pytest.mark.parametrize("loss", [SquaredError(), MSELoss(), BinaryCrossEntropy()])
def test_shape_mismatch_raises(loss):
    with pytest.raises(ValueError, match=r"prediction has shape \(4, 2\) but target has shape"):
        loss(cr.Tensor(np.zeros((4, 2))), np.zeros((4, 3)))


@pytest.mark.parametrize(
    ("sample_weight", "message"),
    [(np.ones(3), "shape"), (-np.ones(4), "non-negative"), (np.zeros(4), "sums to 0")],
)
def test_bad_sample_weights_raise(sample_weight, message):
    with pytest.raises(ValueError, match=message):
        MSELoss()(cr.Tensor(np.zeros((4, 2))), np.zeros((4, 2)), sample_weight=sample_weight)


# ---------------------------------------------------------------------- binary cross-entropy
def test_bce_matches_formula_and_weights(rng):
    logits = rng.normal(size=(6, 2)) * 3
    y = rng.integers(0, 2, size=(6, 2)).astype(float)
    p = 1 / (1 + np.exp(-logits))
    elementwise = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(
        BinaryCrossEntropy()(cr.Tensor(logits), y).item(), elementwise.mean()
    )
    s = rng.uniform(0.5, 2, size=6)
    weighted = BinaryCrossEntropy()(cr.Tensor(logits), y, sample_weight=s).item()
    np.testing.assert_allclose(weighted, (s * elementwise.mean(axis=1)).sum() / s.sum())


@pytest.mark.parametrize("weighted", [False, True])
def test_bce_passes_grad_check(weighted, rng):
    logits = rng.normal(size=(5, 1)) * 2
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    sw = rng.uniform(0.5, 2, 5) if weighted else None
    result = cr.grad_check(lambda a: F.binary_cross_entropy(a, y, sample_weight=sw), [logits])
    assert result, result.report()
    a = cr.Tensor(logits, requires_grad=True)
    F.binary_cross_entropy(a, y).backward()
    np.testing.assert_allclose(a.grad.ravel(), (1 / (1 + np.exp(-logits.ravel())) - y) / 5)


def test_bce_is_stable_for_huge_logits():
    logits = cr.Tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0], np.float32), requires_grad=True)
    E = BinaryCrossEntropy()(logits, np.array([1.0, 0.0, 0.0, 1.0]))
    np.testing.assert_allclose(E.item(), 2 * 1000 / 4)  # two confident mistakes cost |a| each
    E.backward()
    np.testing.assert_allclose(logits.grad, [0, 0, 0.25, -0.25])


def test_bce_rejects_targets_outside_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        BinaryCrossEntropy()(cr.Tensor(np.zeros(3)), np.array([0.0, 2.0, 1.0]))


# ---------------------------------------------------------------------- cross-entropy
def test_cross_entropy_matches_formula_and_gradient(classification):
    logits, y, _ = classification
    a = cr.Tensor(logits, requires_grad=True)
    E = CrossEntropyLoss()(a, y)
    p = _softmax(logits)
    n = len(y)
    np.testing.assert_allclose(E.item(), -np.log(p[np.arange(n), y]).mean())
    E.backward()
    onehot = np.eye(4)[y]
    np.testing.assert_allclose(a.grad, (p - onehot) / n)  # δ = (softmax − onehot) / n


def test_cross_entropy_equals_composed_log_softmax(classification):
    logits, y, _ = classification
    fused = cr.Tensor(logits, requires_grad=True)
    composed = cr.Tensor(logits, requires_grad=True)
    F.cross_entropy(fused, y).backward()
    E = -(F.log_softmax(composed) * np.eye(4)[y]).sum() / len(y)
    E.backward()
    np.testing.assert_allclose(F.cross_entropy(logits, y).item(), E.item())
    np.testing.assert_allclose(fused.grad, composed.grad, atol=1e-15)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"weight": [1.0, 2.0, 0.5, 3.0]},
        {"label_smoothing": 0.2},
        {"weight": [1.0, 2.0, 0.5, 3.0], "label_smoothing": 0.3},
        {"sample_weight": True},
        {"weight": [0.3, 2.0, 1.0, 1.0], "label_smoothing": 0.1, "sample_weight": True},
    ],
)
def test_cross_entropy_options_match_formula_and_pass_grad_check(options, classification):
    logits, y, s = classification
    n, c = logits.shape
    w = np.asarray(options.get("weight", np.ones(c)))
    eps = options.get("label_smoothing", 0.0)
    sw = s if options.get("sample_weight") else None
    kwargs = {"weight": options.get("weight"), "label_smoothing": eps, "sample_weight": sw}
    # The reference, written out: target distribution q = (1 − ε) onehot + ε/C, each class
    # term weighted by w_c, normalized by Σₙ sₙ w_yₙ (PyTorch's convention).
    log_p = np.log(_softmax(logits))
    q_nll = (1 - eps) * w[y] * -log_p[np.arange(n), y]
    q_smooth = eps / c * -(log_p * w).sum(axis=1)
    s_ref = np.ones(n) if sw is None else sw
    expected = (s_ref * (q_nll + q_smooth)).sum() / (s_ref * w[y]).sum()
    np.testing.assert_allclose(F.cross_entropy(logits, y, **kwargs).item(), expected)
    result = cr.grad_check(lambda a: F.cross_entropy(a, y, **kwargs), [logits])
    assert result, result.report()


def test_label_smoothing_gradient_is_p_minus_smoothed_target(classification):
    logits, y, _ = classification
    a = cr.Tensor(logits, requires_grad=True)
    CrossEntropyLoss(label_smoothing=0.1)(a, y).backward()
    q = 0.9 * np.eye(4)[y] + 0.1 / 4
    np.testing.assert_allclose(a.grad, (_softmax(logits) - q) / len(y))


def test_cross_entropy_is_stable_for_logits_of_1000():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], np.float32)
    a = cr.Tensor(logits, requires_grad=True)
    E = CrossEntropyLoss()(a, np.array([1, 2]))
    # Sample 0: −log p₁ = 2000 + log(1 + e⁻²⁰⁰⁰ + e⁻¹⁰⁰⁰) = 2000;
    # sample 1: −log p₂ = log(e¹⁰⁰⁰ + e⁹⁹⁹) − 999 = 1 + log(1 + e⁻¹).
    expected = (2000 + 1 + np.log1p(np.exp(-1))) / 2
    np.testing.assert_allclose(E.item(), expected, rtol=1e-6)
    E.backward()
    assert np.all(np.isfinite(a.grad))
    np.testing.assert_allclose(a.grad.sum(axis=1), 0, atol=1e-6)


def test_cross_entropy_accepts_float_labels_with_integer_values(classification):
    logits, y, _ = classification
    np.testing.assert_allclose(
        F.cross_entropy(logits, y.astype(float)).item(), F.cross_entropy(logits, y).item()
    )


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([0, 1, 4, 0, 0, 0]), r"\[0, 4\)"),
        (np.array([0, -1, 1, 0, 0, 0]), r"\[0, 4\)"),
        (np.array([0.5, 1, 2, 0, 0, 0]), "integer"),
        (np.zeros((6, 4)), r"shape \(6,\)"),
        (np.array(["a"] * 6), "integer"),
    ],
)
def test_cross_entropy_rejects_bad_labels(labels, message, classification):
    logits, _, _ = classification
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(logits, labels)


def test_cross_entropy_rejects_bad_logits_and_options(classification):
    logits, y, _ = classification
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        F.cross_entropy(logits[0], y[:1])
    with pytest.raises(ValueError, match="weight has shape"):
        F.cross_entropy(logits, y, weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="label_smoothing"):
        CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="non-negative"):
        CrossEntropyLoss(weight=[1.0, -1.0, 1.0, 1.0])


def test_loss_table():
    assert set(LOSSES) >= {"squared_error", "mse", "binary_cross_entropy", "cross_entropy"}
    assert isinstance(get_loss("cross_entropy", label_smoothing=0.1), CrossEntropyLoss)
    mse = MSELoss()
    assert get_loss(mse) is mse
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'.*cross_entropy"):
        get_loss("hinge")
    assert repr(CrossEntropyLoss(label_smoothing=0.1)) == "CrossEntropyLoss(label_smoothing=0.1)"


# ---------------------------------------------------------------------- optional: PyTorch
def test_against_pytorch(classification, regression):
    torch = pytest.importorskip("torch")
    logits, y, _ = classification
    w = np.array([1.0, 2.0, 0.5, 3.0])
    ours = cr.Tensor(logits, requires_grad=True)
    F.cross_entropy(ours, y, weight=w, label_smoothing=0.2).backward()
    theirs = torch.tensor(logits, requires_grad=True)
    E = torch.nn.functional.cross_entropy(
        theirs, torch.tensor(y), weight=torch.tensor(w), label_smoothing=0.2
    )
    E.backward()
    np.testing.assert_allclose(F.cross_entropy(logits, y, w, 0.2).item(), E.item())
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy())

    pred, target, _ = regression
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(pred), torch.tensor((target > 0).astype(float))
    )
    np.testing.assert_allclose(F.binary_cross_entropy(pred, target > 0).item(), bce.item())
    mse = torch.nn.functional.mse_loss(torch.tensor(pred), torch.tensor(target))
    np.testing.assert_allclose(F.mse_loss(pred, target).item(), mse.item())
