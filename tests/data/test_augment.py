"""Augmentations: the transformation each one promises, seeding, shapes and bad input."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from chainrule.data.augment import (
    MixedTargets,
    compose,
    expand,
    gaussian_noise,
    get_augmentation,
    mixup,
    random_shift,
)


def test_gaussian_noise_adds_noise_of_the_given_sigma() -> None:
    X = np.zeros((4000, 5), dtype=np.float32)
    y = np.arange(4000)
    X_new, y_new = gaussian_noise(X, y, 0, sigma=0.3)
    assert X_new.dtype == np.float32 and X_new.shape == X.shape
    assert y_new is y
    assert abs(X_new.mean()) < 0.02
    assert X_new.std() == pytest.approx(0.3, rel=0.03)
    assert np.all(X == 0)  # the input is not modified


def test_gaussian_noise_is_seeded() -> None:
    X = np.ones((10, 3))
    a, _ = gaussian_noise(X, np.zeros(10), 7)
    b, _ = gaussian_noise(X, np.zeros(10), np.random.default_rng(7))
    c, _ = gaussian_noise(X, np.zeros(10), 8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float64  # float64 stays float64


def test_mixup_is_the_convex_combination_of_its_draws() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = rng.integers(0, 3, size=20)
    X_mix, pairs = mixup(X, y, 5, alpha=0.4)
    # Replay the draws: one λ ~ Beta(α, α) for the batch, then a permutation.
    replay = np.random.default_rng(5)
    lam = replay.beta(0.4, 0.4)
    perm = replay.permutation(20)
    np.testing.assert_allclose(X_mix, lam * X + (1 - lam) * X[perm])
    # The default ("pairs"): both labels of each pair and λ, for the loop to mix the loss.
    assert isinstance(pairs, MixedTargets) and len(pairs) == 20
    assert pairs.y_a is y and np.array_equal(pairs.y_b, y[perm])
    assert pairs.lam == pytest.approx(lam) and isinstance(pairs.lam, float)
    # "soft": the mixed one-hot targets as one array.
    _, y_mix = mixup(X, y, 5, alpha=0.4, targets="soft")
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(y_mix, lam * onehot + (1 - lam) * onehot[perm], rtol=1e-6)
    np.testing.assert_allclose(y_mix.sum(axis=1), 1.0, rtol=1e-6)  # class probabilities
    np.testing.assert_array_equal(pairs.soft(), y_mix)


def test_mixed_targets_combine_weighs_by_lambda() -> None:
    pairs = MixedTargets(np.array([1.0, 2.0]), np.array([3.0, 5.0]), 0.25)
    assert pairs.combine(np.sum) == pytest.approx(0.25 * 3.0 + 0.75 * 8.0)


def test_mixup_mixes_regression_targets_and_honours_n_classes() -> None:
    X, y = np.ones((6, 2)), np.linspace(0.0, 1.0, 6)
    _, y_mix = mixup(X, y, 0, targets="soft")
    assert y_mix.shape == (6,) and y_mix.min() >= 0 and y_mix.max() <= 1
    _, soft = mixup(X, np.array([0, 1, 0, 1, 0, 1]), 0, targets="soft", n_classes=4)
    assert soft.shape == (6, 4) and np.all(soft[:, 2:] == 0)
    with pytest.raises(ValueError, match="class labels must lie"):
        mixup(X, np.array([0, 1, 5, 1, 0, 1]), 0, targets="soft", n_classes=3)
    with pytest.raises(ValueError, match="alpha"):
        mixup(X, y, 0, alpha=0)
    with pytest.raises(ValueError, match="targets"):
        mixup(X, y, 0, targets="hard")
    with pytest.raises(ValueError, match="already mixed"):
        compose(mixup, mixup)(X, y, 0)


def test_random_shift_moves_a_pixel_by_at_most_max_shift() -> None:
    images = np.zeros((200, 7, 7), dtype=np.float32)
    images[:, 3, 3] = 1.0
    out, _ = random_shift(images, np.zeros(200), 0, max_shift=2)
    assert out.shape == images.shape
    assert np.all(out.sum(axis=(1, 2)) == 1)  # the pixel stays inside the 7×7 image
    rows, cols = np.nonzero(out.reshape(200, 7, 7))[1:]
    assert np.all(np.abs(rows - 3) <= 2) and np.all(np.abs(cols - 3) <= 2)
    assert len({(r, c) for r, c in zip(rows, cols, strict=True)}) > 10  # shifts do vary


def test_random_shift_fills_with_zeros_and_takes_flat_rows() -> None:
    flat = np.ones((50, 16))  # 4×4 images of ones
    out, _ = random_shift(flat, np.zeros(50), 1, max_shift=1, image_shape=(4, 4))
    assert out.shape == (50, 16)
    lost = 16 - out.sum(axis=1)  # a shift of (dy, dx) empties |dy|·4 + |dx|·4 − |dy dx| pixels
    assert set(np.unique(lost)) <= {0, 4, 7}
    assert lost.max() > 0
    channels = np.ones((3, 2, 5, 5))
    out, _ = random_shift(channels, np.zeros(3), 0, max_shift=1)
    assert out.shape == channels.shape


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_shift": -1}, "max_shift"),
        ({"image_shape": (3, 3)}, "image_shape"),
        ({"max_shift": 4, "image_shape": (4, 4)}, "smaller than the image"),
    ],
)
def test_random_shift_rejects_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        random_shift(np.zeros((2, 16)), np.zeros(2), 0, **kwargs)


def test_random_shift_needs_an_image_shape_for_flat_rows() -> None:
    with pytest.raises(ValueError, match="image-shaped"):
        random_shift(np.zeros((2, 15)), np.zeros(2), 0)


def test_random_shift_takes_flat_rows_of_square_images_as_squares() -> None:
    flat = np.arange(2 * 16, dtype=np.float64).reshape(2, 16)
    a, _ = random_shift(flat, np.zeros(2), 3)
    b, _ = random_shift(flat, np.zeros(2), 3, image_shape=(4, 4))
    assert np.array_equal(a, b)


def test_compose_and_expand() -> None:
    X, y = np.zeros((10, 4)), np.arange(10)
    both = compose(partial(gaussian_noise, sigma=0.1), partial(gaussian_noise, sigma=0.1))
    X2, y2 = both(X, y, 0)
    assert X2.std() > 0 and np.array_equal(y2, y)
    big_X, big_y = expand(X, y, gaussian_noise, copies=2, rng=0)
    assert big_X.shape == (30, 4) and np.array_equal(big_y, np.tile(y, 3))
    assert np.all(big_X[:10] == 0) and big_X[10:].std() > 0
    with pytest.raises(ValueError, match="form of y"):
        expand(X, y, mixup, copies=1, rng=0)
    with pytest.raises(ValueError, match="form of y"):
        expand(X, y, partial(mixup, targets="soft"), copies=1, rng=0)
    # A mixed batch passes through the other augmentations.
    X3, pairs = compose(mixup, gaussian_noise)(X, y, 0)
    assert isinstance(pairs, MixedTargets) and X3.shape == X.shape


def test_bad_batches_and_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="rows but y has"):
        gaussian_noise(np.zeros((3, 2)), np.zeros(4), 0)
    with pytest.raises(ValueError, match="numeric"):
        gaussian_noise(np.array([["a", "b"]]), np.zeros(1), 0)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_noise(np.zeros((3, 2)), np.zeros(3), 0, sigma=-1)
    assert get_augmentation("mixup") is mixup
    with pytest.raises(ValueError, match="unknown augmentation"):
        get_augmentation("rotate")
    with pytest.raises(ValueError, match="'noise', 'mixup', 'shift'"):
        get_augmentation(["noise", "rotate"])
    # A list is the composition, in order, drawing from one generator.
    X, y = np.zeros((3, 2)), np.zeros(3)
    gen = np.random.default_rng(1)
    by_hand = gaussian_noise(*gaussian_noise(X, y, gen), gen)[0]
    assert np.array_equal(get_augmentation(["noise", gaussian_noise])(X, y, 1)[0], by_hand)
