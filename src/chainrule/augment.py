"""Data augmentation: new training samples from old ones (the recipe's "regularize" step).

More data is the best regularizer; when there is no more, plausible variations of the samples
we have teach the network which changes should *not* change its answer. Each augmentation here
is a function of one batch,

    ``augment(X, y, rng) -> (X_new, y_new)``

with `rng` a `numpy.random.Generator` (or a seed), so that it can run inside a training loop
on every minibatch, or offline with `expand` to enlarge a training set once. Options are
keyword arguments; fix them with `functools.partial`, e.g.
``partial(gaussian_noise, sigma=0.05)``. Only NumPy is used, so every layer can call these.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.rng import Seed, as_generator

__all__ = [
    "AUGMENTATIONS",
    "compose",
    "expand",
    "gaussian_noise",
    "get_augmentation",
    "mixup",
    "random_shift",
]

Array = np.ndarray
Augmentation = Callable[[Array, Array, Any], tuple[Array, Array]]


def _check_batch(X: Any, y: Any) -> tuple[Array, Array]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim < 2:
        raise ValueError(f"X must have one row per sample (at least 2-d), got shape {X.shape}")
    if X.dtype.kind not in "iufb":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    return X, y


def _float(X: Array) -> Array:
    """X as a floating array (float32 for integer input, matching the networks' default)."""
    return X if X.dtype.kind == "f" else X.astype(np.float32)


def gaussian_noise(X: Any, y: Any, rng: Seed = None, *, sigma: float = 0.1) -> tuple[Array, Array]:
    """Additive Gaussian input noise: x̃ = x + ε with ε ~ N(0, σ² I); y unchanged.

    On standardized features (unit variance) σ is the noise level relative to each feature's
    spread; 0.05–0.2 is the usual range. Training on noisy inputs penalizes a large input
    gradient (Bishop, 1995: it is equivalent to Tikhonov regularization), so the network
    learns a smoother function.

    Returns a new floating array (the input is not modified) and `y` itself.
    """
    X, y = _check_batch(X, y)
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not sigma >= 0:
        raise ValueError(f"sigma must be a non-negative number, got {sigma!r}")
    X = _float(X)
    noise = as_generator(rng).standard_normal(X.shape).astype(X.dtype, copy=False)
    noise *= X.dtype.type(sigma)
    return X + noise, y


def _one_hot(y: Array, n_classes: int | None) -> Array:
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"class labels must lie in 0 … {k - 1} (n_classes={k}), got {y.max()}")
    out = np.zeros((len(y), k), dtype=np.float32)
    out[np.arange(len(y)), y] = 1.0
    return out


def mixup(
    X: Any, y: Any, rng: Seed = None, *, alpha: float = 0.2, n_classes: int | None = None
) -> tuple[Array, Array]:
    """mixup (Zhang et al., 2018, arXiv:1710.09412): convex combinations of sample pairs.

    With λ ~ Beta(α, α) drawn once for the batch and π a random permutation of its rows,

        x̃ᵢ = λ xᵢ + (1 − λ) x_π(i),    ỹᵢ = λ yᵢ + (1 − λ) y_π(i).

    Integer class labels are first one-hot encoded (``n_classes`` columns; default: the
    largest label + 1), so that ỹ holds class probabilities: train on them with a loss that
    takes soft targets (e.g. ``BinaryCrossEntropy`` on the one-hot columns). Float targets
    (regression, or probabilities already) are mixed as they are. Small α (0.1–0.4) keeps
    most mixtures close to a real sample.
    """
    X, y = _check_batch(X, y)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    gen = as_generator(rng)
    X = _float(X)
    if y.dtype.kind in "iub":
        targets = _one_hot(y.astype(np.int64).reshape(-1), n_classes)
    elif y.dtype.kind == "f":
        targets = y
    else:
        raise ValueError(
            f"mixup needs integer class indices or numeric targets, got dtype {y.dtype} "
            "(encode text labels as 0 … K-1 first)"
        )
    lam = X.dtype.type(gen.beta(alpha, alpha))
    perm = gen.permutation(len(X))
    X_mix = lam * X + (1 - lam) * X[perm]
    y_mix = lam * targets + (1 - lam) * targets[perm]
    return X_mix, y_mix


def _image_shape(X: Array, image_shape: Sequence[int] | None) -> tuple[int, ...]:
    """The (…, height, width) shape of one sample as an image."""
    if image_shape is None:
        if X.ndim < 3:
            raise ValueError(
                "random_shift needs image-shaped samples: X of shape (n, height, width) or "
                "(n, channels, height, width), or flat rows with image_shape=(height, width)"
            )
        return tuple(X.shape[1:])
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3) or any(s < 1 for s in shape):
        raise ValueError(f"image_shape must be (height, width) or (channels, h, w), got {shape}")
    if int(np.prod(shape)) != int(np.prod(X.shape[1:])):
        raise ValueError(
            f"image_shape {shape} holds {int(np.prod(shape))} values, but each sample of X "
            f"has {int(np.prod(X.shape[1:]))}"
        )
    return shape


def random_shift(
    X: Any,
    y: Any,
    rng: Seed = None,
    *,
    max_shift: int = 1,
    image_shape: Sequence[int] | None = None,
) -> tuple[Array, Array]:
    """Shift each image by a random (dy, dx) ∈ {−s, …, s}² pixels, filling with zeros.

    A digit moved by a pixel is still the same digit: the network learns a little
    translation invariance. `X` is (n, height, width), (n, channels, height, width) or flat
    rows (n, height·width) with ``image_shape=(height, width)`` (then flat rows come back);
    `y` is unchanged.
    """
    X, y = _check_batch(X, y)
    if isinstance(max_shift, bool) or not isinstance(max_shift, numbers.Integral) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer, got {max_shift!r}")
    shape = _image_shape(X, image_shape)
    images = X.reshape(len(X), *shape)
    s = int(max_shift)
    h, w = shape[-2:]
    if s >= min(h, w):
        raise ValueError(f"max_shift={s} must be smaller than the image ({h}×{w})")
    gen = as_generator(rng)
    shifts = gen.integers(-s, s + 1, size=(len(X), 2))
    out = np.zeros_like(images)
    # One slice assignment per distinct shift: at most (2s + 1)² vectorized copies.
    for dy, dx in np.unique(shifts, axis=0):
        rows = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
        src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
        src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
        out[rows, ..., dst_y, dst_x] = images[rows, ..., src_y, src_x]
    return out.reshape(X.shape), y


def compose(*augmentations: Augmentation) -> Augmentation:
    """One augmentation applying `augmentations` in order, all drawing from the same `rng`."""
    for fn in augmentations:
        if not callable(fn):
            raise ValueError(f"compose takes augmentation functions, got {fn!r}")

    def composed(X: Any, y: Any, rng: Seed = None) -> tuple[Array, Array]:
        gen = as_generator(rng)
        for fn in augmentations:
            X, y = fn(X, y, gen)
        return X, y

    return composed


def expand(
    X: Any, y: Any, augmentation: Augmentation, copies: int = 1, rng: Seed = None
) -> tuple[Array, Array]:
    """The data plus `copies` augmented versions of it, stacked: (1 + copies) · n rows.

    Offline augmentation for any estimator: ``X2, y2 = expand(X, y, gaussian_noise, 2, rng=0)``
    then ``fit(X2, y2)``. The targets of every part must have the same form (so mixup's soft
    targets do not mix with integer labels here).
    """
    X, y = _check_batch(X, y)
    if isinstance(copies, bool) or not isinstance(copies, numbers.Integral) or copies < 0:
        raise ValueError(f"copies must be a non-negative integer, got {copies!r}")
    gen = as_generator(rng)
    parts = [(X, y)] + [augmentation(X, y, gen) for _ in range(int(copies))]
    if len({np.asarray(p[1]).shape[1:] for p in parts}) > 1:
        raise ValueError("the augmentation changes the form of y (mixup's soft targets?)")
    dtype = np.result_type(*(p[0].dtype for p in parts))
    return (
        np.concatenate([p[0].astype(dtype, copy=False) for p in parts]),
        np.concatenate([np.asarray(p[1]) for p in parts]),
    )


# By name, for estimator and command-line options.
AUGMENTATIONS: dict[str, Augmentation] = {
    "noise": gaussian_noise,
    "mixup": mixup,
    "shift": random_shift,
}


def get_augmentation(name: str | Augmentation) -> Augmentation:
    """The augmentation called `name` (a callable is returned as is)."""
    if callable(name):
        return name
    if isinstance(name, str) and name in AUGMENTATIONS:
        return AUGMENTATIONS[name]
    valid = ", ".join(repr(k) for k in AUGMENTATIONS)
    raise ValueError(f"unknown augmentation {name!r}; choose one of {valid} or pass a function")
