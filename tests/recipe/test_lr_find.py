"""lr_find: the range test's schedule, curve, suggestion and stopping rule."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.recipe import lr_find
from chainrule.recipe.lr_find import suggest


def test_learning_rate_rises_exponentially(cancer) -> None:
    X, y = cancer
    result = lr_find(
        cr.MLPClassifier(hidden_layer_sizes=(16,)), X, y, min_lr=1e-5, max_lr=1e-2, n_steps=40
    )
    lrs = np.asarray(result.learning_rates)
    assert len(lrs) == len(result.losses) == len(result.smoothed) == 40  # no blow-up below 1e-2
    assert lrs[0] == pytest.approx(1e-5) and lrs[-1] == pytest.approx(1e-2)
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], (1e3) ** (1 / 39))  # a constant ratio
    assert not result.diverged
    assert 1e-5 <= result.suggestion <= 1e-2


def test_suggestion_on_a_real_curve(cancer) -> None:
    X, y = cancer
    result = lr_find(cr.MLPClassifier(hidden_layer_sizes=(32,)), X, y)
    smooth = np.asarray(result.smoothed)
    assert result.lr_min == result.learning_rates[int(np.argmin(smooth))]
    assert result.lr_steepest is not None
    assert 1e-4 < result.suggestion < result.lr_min  # on the falling stretch, before the minimum
    i = result.learning_rates.index(result.suggestion)
    assert smooth[i] < smooth[0]
    assert "suggested η" in str(result)
    ax = result.plot()
    assert ax.get_xscale() == "log"


def test_same_seed_same_curve(iris) -> None:
    X, y = iris
    a = lr_find(cr.MLPClassifier(hidden_layer_sizes=(8,)), X, y, n_steps=20, random_state=3)
    b = lr_find(cr.MLPClassifier(hidden_layer_sizes=(8,)), X, y, n_steps=20, random_state=3)
    assert a.losses == b.losses


def test_suggest_rule_on_a_synthetic_curve() -> None:
    lrs = np.logspace(-6, 0, 61)
    # Flat, then falling fastest around η = 1e-3 (a logistic step in log η), then exploding.
    t = np.log10(lrs)
    curve = 1.0 - 0.8 / (1 + np.exp(-4 * (t + 3))) + np.where(t > -1, (t + 1) ** 2 * 5, 0)
    suggestion, steepest, lr_min = suggest(lrs, curve)
    assert steepest == pytest.approx(1e-3, rel=0.3)
    assert suggestion == steepest
    assert lr_min == pytest.approx(lrs[np.argmin(curve)])
    flat = np.ones(61)
    assert suggest(lrs, flat) == (lrs[0] / 10, None, lrs[0])


def test_bad_options(iris) -> None:
    X, y = iris
    with pytest.raises(ValueError, match="min_lr < max_lr"):
        lr_find(cr.MLPClassifier(), X, y, min_lr=1.0, max_lr=0.1)
    with pytest.raises(ValueError, match="n_steps"):
        lr_find(cr.MLPClassifier(), X, y, n_steps=3)
    with pytest.raises(ValueError, match="smoothing"):
        lr_find(cr.MLPClassifier(), X, y, smoothing=1.0)
