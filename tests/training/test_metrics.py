"""The metrics module: one R² for the estimators, the command line and the recipe."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.training.metrics import r2

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("outputs", [1, 3])
def test_r2_is_scikit_learns(outputs: int) -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=(40, outputs)).squeeze()
    p = y + rng.normal(scale=0.5, size=y.shape)
    w = rng.uniform(0.1, 2.0, size=40)
    assert r2(y, p) == pytest.approx(sklearn_metrics.r2_score(y, p))
    assert r2(y, p, w) == pytest.approx(sklearn_metrics.r2_score(y, p, sample_weight=w))


def test_r2_of_a_constant_target() -> None:
    # R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² has no denominator: 1 if predicted exactly, else 0.
    assert r2(np.ones(5), np.ones(5)) == 1.0
    assert r2(np.ones(5), np.zeros(5)) == 0.0
    assert sklearn_metrics.r2_score(np.ones(5), np.zeros(5)) == 0.0


def test_the_command_line_and_the_recipe_use_it() -> None:
    from chainrule.cli.report import regression_metrics
    from chainrule.recipe.workflow import _test_scores

    y, p = np.array([1.0, 2.0, 4.0, 3.0]), np.array([1.5, 2.0, 3.0, 3.0])
    assert regression_metrics(y, p)["r2"] == r2(y, p) == _test_scores("regression", y, p)["r2"]
    assert regression_metrics(y[:1], p[:1])["r2"] == 0.0  # one row: no spread to explain
