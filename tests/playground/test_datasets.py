"""The six datasets and the input features."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.playground.datasets import (
    CLASSIFICATION,
    DATASETS,
    FEATURES,
    REGRESSION,
    features,
    grid,
    make_dataset,
    split,
)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_has_points_in_the_square_and_valid_targets(name: str) -> None:
    x, y = make_dataset(name, n=400, noise=0.0, seed=1)
    assert x.shape == (400, 2) and y.shape == (400,)
    assert np.abs(x).max() <= 6.5  # Gaussians may step a little outside
    if name in CLASSIFICATION:
        assert set(np.unique(y)) == {0.0, 1.0}
        assert 0.3 < y.mean() < 0.7  # both classes, roughly balanced
    else:
        assert np.abs(y).max() <= 1.0 and y.std() > 0.05


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_the_seed_decides_the_points(name: str) -> None:
    a, b, c = (make_dataset(name, 100, 0.2, seed) for seed in (3, 3, 4))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_xor_and_circle_labels_follow_their_rule_without_noise() -> None:
    x, y = make_dataset("xor", 300)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] >= 0).astype(float))
    assert np.abs(x).min() >= 0.3  # the gap at the axes
    x, y = make_dataset("circle", 300)
    np.testing.assert_array_equal(y, (np.hypot(x[:, 0], x[:, 1]) < 2.5).astype(float))


def test_noise_flips_some_xor_labels() -> None:
    x, y = make_dataset("xor", 500, noise=0.5, seed=0)
    rule = (x[:, 0] * x[:, 1] >= 0).astype(float)
    assert 0 < np.mean(rule != y) < 0.5


def test_unknown_dataset_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'moons'"):
        make_dataset("moons")


def test_features_are_the_named_functions_of_the_point() -> None:
    p = np.array([[2.0, -3.0]])
    f = features(p, list(FEATURES))
    expected = [2.0, -3.0, 4.0, 9.0, -6.0, np.sin(2.0), np.sin(-3.0)]
    np.testing.assert_allclose(f[0], expected, rtol=1e-6)
    assert f.dtype == np.float32
    assert features(p, ["x2"]).shape == (1, 1)


def test_split_and_grid() -> None:
    x, y = make_dataset("gauss", 500)
    xt, yt, xs, ys = split(x, y, 30)
    assert len(xt) == len(yt) == 150 and len(xs) == len(ys) == 350
    g = grid(4)
    assert g.shape == (16, 2)
    np.testing.assert_allclose(g[0], [-4.5, 4.5])  # top-left cell centre
    np.testing.assert_allclose(g[-1], [4.5, -4.5])


def test_problem_tables_cover_all_datasets() -> None:
    assert set(CLASSIFICATION) | set(REGRESSION) == set(DATASETS)
    assert set(CLASSIFICATION) == {"circle", "xor", "gauss", "spiral"}
