"""Data augmentation: new training samples from old ones (the recipe's "regularize" step).

More data is the best regularizer; when there is no more, plausible variations of the samples
we have teach the network which changes should *not* change its answer. Each augmentation here
is a function of one batch,

    ``augment(X, y, rng) -> (X_new, y_new)``

with `rng` a `numpy.random.Generator` (or a seed), so that it can run inside a training loop
on every minibatch (``cr.fit(..., batch_transform=f)``, or ``augment=`` of the estimators), or
offline with `expand` to enlarge a training set once. Options are keyword arguments; fix them
with `functools.partial`, e.g. ``partial(gaussian_noise, sigma=0.05)``. The functions never
modify their inputs. Only NumPy is used, so every layer can call these.

`mixup` returns its targets as `MixedTargets` (both labels of each mixed pair and λ): the
training loop then minimises λ E(ŷ, y_a) + (1 − λ) E(ŷ, y_b), which works with any loss,
class indices included (see `MixedTargets`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.rng import Seed, as_generator

__all__ = [
    "AUGMENTATIONS",
    "MixedTargets",
    "compose",
    "expand",
    "gaussian_noise",
    "get_augmentation",
    "mixup",
    "random_shift",
]

Array = np.ndarray
Augmentation = Callable[[Array, Any, Any], tuple[Array, Any]]


@dataclass(frozen=True)
class MixedTargets:
    """The targets of a mixup batch: row i is x̃ᵢ = λ x_a + (1 − λ) x_b, labelled y_a and y_b.

    Instead of one mixed target, the training loop mixes the loss,

        E = λ E(ŷ, y_a) + (1 − λ) E(ŷ, y_b),

    which needs no soft-target version of a loss. For cross-entropy it is exactly the
    cross-entropy against the mixed one-hot target ỹ = λ onehot(y_a) + (1 − λ) onehot(y_b),
    since −Σₖ ỹₖ log pₖ is linear in ỹ; so is binary cross-entropy. For squared error it differs
    from E(ŷ, ỹ) by a constant, λ(1 − λ)·½‖y_a − y_b‖², so the gradient is the same. Penalties
    added to the loss count once: λ P + (1 − λ) P = P.

    `cr.fit` (and so the estimators) applies `combine` to the loss and to the training
    metrics when a ``batch_transform`` returns `MixedTargets`.

    Attributes
    ----------
    y_a : ndarray
        Each row's own targets.
    y_b : ndarray
        The targets of its mixing partner (same shape as `y_a`).
    lam : float
        λ, the weight of `y_a`.
    """

    y_a: Array
    y_b: Array
    lam: float

    def __len__(self) -> int:
        return len(self.y_a)

    def combine(self, f: Callable[[Array], Any]) -> Any:
        """λ f(y_a) + (1 − λ) f(y_b): `f` maps targets to a loss (Tensor) or a metric."""
        return f(self.y_a) * self.lam + f(self.y_b) * (1.0 - self.lam)

    def soft(self, n_classes: int | None = None) -> Array:
        """The mixed targets as one array: λ y_a + (1 − λ) y_b, one-hot first for class indices.

        Integer labels become ``n_classes`` columns of class probabilities (default: the
        largest label + 1); float targets are mixed as they are.
        """
        y_a, y_b = np.asarray(self.y_a), np.asarray(self.y_b)
        if y_a.dtype.kind in "iub":
            if n_classes is None:
                n_classes = int(max(y_a.max(), y_b.max())) + 1
            y_a = _one_hot(y_a.astype(np.int64).reshape(-1), n_classes)
            y_b = _one_hot(y_b.astype(np.int64).reshape(-1), n_classes)
        lam = y_a.dtype.type(self.lam)
        return lam * y_a + (1 - lam) * y_b


def _check_batch(X: Any, y: Any) -> tuple[Array, Any]:
    """X as an array and y as an array (or `MixedTargets`, passed through), rows matching."""
    X = np.asarray(X)
    if not isinstance(y, MixedTargets):
        y = np.asarray(y)
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


def gaussian_noise(X: Any, y: Any, rng: Seed = None, *, sigma: float = 0.1) -> tuple[Array, Any]:
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
    # Drawn in the data's precision (float32 draws directly, no float64 detour), then
    # x + σε accumulated in place: one new array per batch.
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    out = as_generator(rng).standard_normal(X.shape, dtype=dtype)
    out *= dtype.type(sigma)
    out += X
    return out.astype(X.dtype, copy=False), y


def _one_hot(y: Array, n_classes: int | None) -> Array:
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"class labels must lie in 0 … {k - 1} (n_classes={k}), got {y.max()}")
    out = np.zeros((len(y), k), dtype=np.float32)
    out[np.arange(len(y)), y] = 1.0
    return out


def mixup(
    X: Any,
    y: Any,
    rng: Seed = None,
    *,
    alpha: float = 0.2,
    targets: str = "pairs",
    n_classes: int | None = None,
) -> tuple[Array, Any]:
    """mixup (Zhang et al., 2018, arXiv:1710.09412): convex combinations of sample pairs.

    With λ ~ Beta(α, α) drawn once for the batch and π a random permutation of its rows,

        x̃ᵢ = λ xᵢ + (1 − λ) x_π(i),    ỹᵢ = λ yᵢ + (1 − λ) y_π(i).

    Small α (0.1–0.4) keeps most mixtures close to a real sample.

    Parameters
    ----------
    targets : {"pairs", "soft"}
        ``"pairs"`` (for training): return `MixedTargets` (y, y_π, λ); the training loop
        mixes the loss instead of the targets, which works for class indices with any loss
        (``cr.fit(..., batch_transform=mixup)``, ``MLPClassifier(augment="mixup")``).
        ``"soft"``: return ỹ as one array, integer labels one-hot encoded first
        (``n_classes`` columns; default: the largest label + 1) so that ỹ holds class
        probabilities, for a loss that takes soft targets (``BinaryCrossEntropy``); float
        targets are mixed as they are.
    n_classes : int, optional
        Columns of the one-hot encoding (``targets="soft"`` only).

    Returns
    -------
    X_mixed : ndarray
        A new floating array.
    y_mixed : MixedTargets or ndarray
        As chosen by `targets`.
    """
    X, y = _check_batch(X, y)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    if targets not in ("pairs", "soft"):
        raise ValueError(f"targets must be 'pairs' or 'soft', got {targets!r}")
    if isinstance(y, MixedTargets):
        raise ValueError("mixup got a batch that is already mixed (mixup applied twice?)")
    if y.dtype.kind not in "iubf":
        raise ValueError(
            f"mixup needs integer class indices or numeric targets, got dtype {y.dtype} "
            "(encode text labels as 0 … K-1 first)"
        )
    gen = as_generator(rng)
    X = _float(X)
    lam = X.dtype.type(gen.beta(alpha, alpha))
    perm = gen.permutation(len(X))
    X_mix = lam * X + (1 - lam) * X[perm]
    mixed = MixedTargets(y, y[perm], float(lam))
    if targets == "soft":
        return X_mix, mixed.soft(n_classes)
    return X_mix, mixed


def _image_shape(X: Array, image_shape: Sequence[int] | None) -> tuple[int, ...]:
    """The (…, height, width) shape of one sample as an image."""
    if image_shape is None:
        if X.ndim >= 3:
            return tuple(X.shape[1:])
        side = math.isqrt(X.shape[1])
        if side > 1 and side * side == X.shape[1]:  # flat rows of square images (8×8 digits)
            return (side, side)
        raise ValueError(
            "random_shift needs image-shaped samples: X of shape (n, height, width) or "
            "(n, channels, height, width), flat rows of square images, or flat rows with "
            f"image_shape=(height, width); got rows of {X.shape[1]} values"
        )
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
) -> tuple[Array, Any]:
    """Shift each image by a random (dy, dx) ∈ {−s, …, s}² pixels, filling with zeros.

    A digit moved by a pixel is still the same digit: the network learns a little
    translation invariance. `X` is (n, height, width), (n, channels, height, width) or flat
    rows (n, height·width) with ``image_shape=(height, width)`` (then flat rows come back);
    flat rows of h² values with no `image_shape` are taken as h×h images (8×8 digits,
    28×28 MNIST). `y` is unchanged.
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

    def composed(X: Any, y: Any, rng: Seed = None) -> tuple[Array, Any]:
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
    then ``fit(X2, y2)``. The targets of every part must have the same form: mixup's
    `MixedTargets` cannot be stacked, and its soft targets (``targets="soft"``) do not mix
    with integer labels.
    """
    X, y = _check_batch(X, y)
    if isinstance(copies, bool) or not isinstance(copies, numbers.Integral) or copies < 0:
        raise ValueError(f"copies must be a non-negative integer, got {copies!r}")
    gen = as_generator(rng)
    parts = [(X, y)] + [augmentation(X, y, gen) for _ in range(int(copies))]
    if any(isinstance(p[1], MixedTargets) for p in parts):
        raise ValueError(
            "the augmentation changes the form of y (mixup's MixedTargets): augment in the "
            "training loop instead (batch_transform=, or augment= of the estimators)"
        )
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


def get_augmentation(name: str | Augmentation | Sequence[str | Augmentation]) -> Augmentation:
    """The augmentation called `name` (a callable is returned as is).

    A list or tuple of names and callables gives their `compose`, applied in order.
    """
    if callable(name):
        return name
    if isinstance(name, str) and name in AUGMENTATIONS:
        return AUGMENTATIONS[name]
    if isinstance(name, list | tuple) and name:
        return compose(*(get_augmentation(part) for part in name))
    valid = ", ".join(repr(k) for k in AUGMENTATIONS)
    raise ValueError(
        f"unknown augmentation {name!r}; choose one of {valid}, a function "
        "f(X, y, rng) -> (X, y), or a list of them"
    )
