"""The playground's two-dimensional datasets and input features.

The six datasets of TensorFlow Playground, drawn the same way on the square [−6, 6]²:
four for classification (labels 0 and 1) and two for regression (targets in [−1, 1]).
`noise` is the fraction (0 to 0.5) of the generator's scale added as random jitter.

The input features are the functions of the point (x₁, x₂) that the network sees: x₁, x₂,
x₁², x₂², x₁x₂, sin x₁ and sin x₂; the first layer's weights multiply them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "CLASSIFICATION",
    "DATASETS",
    "DOMAIN",
    "FEATURES",
    "REGRESSION",
    "features",
    "grid",
    "make_dataset",
    "split",
]

DOMAIN = 6.0  # the datasets and heat maps cover [−DOMAIN, DOMAIN]²
Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 inside radius 2.5, class 0 in the ring from 3.5 to 5."""
    radius = 5.0
    half = n // 2
    r = np.concatenate(
        [rng.uniform(0, radius * 0.5, half), rng.uniform(radius * 0.7, radius, n - half)]
    )
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    y = (np.linalg.norm(x + jitter, axis=1) < radius * 0.5).astype(np.float64)
    return x, y


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 where x₁x₂ ≥ 0 (first and third quadrants), a gap of 0.3 at the axes."""
    x = rng.uniform(-5, 5, (n, 2))
    x += np.where(x > 0, 0.3, -0.3)
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    moved = x + jitter
    y = (moved[:, 0] * moved[:, 1] >= 0).astype(np.float64)
    return x, y


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clouds around (2, 2) (class 1) and (−2, −2) (class 0)."""
    variance = 0.5 + (4.0 - 0.5) * noise / 0.5
    half = n // 2
    centre = np.where(np.arange(n)[:, None] < half, 2.0, -2.0)
    x = centre + rng.normal(0, np.sqrt(variance), (n, 2))
    y = (np.arange(n) < half).astype(np.float64)
    return x, y


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of 1.75 turns each."""
    half = n // 2
    parts, labels = [], []
    for count, shift, label in ((half, 0.0, 1.0), (n - half, np.pi, 0.0)):
        i = np.arange(count) / max(count, 1)
        r = i * 5
        t = 1.75 * i * 2 * np.pi + shift
        p = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        parts.append(p + rng.uniform(-1, 1, (count, 2)) * noise)
        labels.append(np.full(count, label))
    return np.concatenate(parts), np.concatenate(labels)


def _plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The target (x₁ + x₂)/10, clipped to [−1, 1]."""
    radius = 6.0
    x = rng.uniform(-radius, radius, (n, 2))
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    y = np.clip((x + jitter).sum(axis=1) / 10, -1, 1)
    return x, y


# (centre x₁, centre x₂, sign) of the six bumps of the multi-Gaussian surface.
_BUMPS = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))


def _multi_gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Six bumps of height ±1 falling linearly to 0 at distance 2; the largest one counts."""
    radius = 6.0
    x = rng.uniform(-radius, radius, (n, 2))
    moved = x + rng.uniform(-radius, radius, (n, 2)) * noise
    y = np.zeros(n)
    for cx, cy, sign in _BUMPS:
        d = np.hypot(moved[:, 0] - cx, moved[:, 1] - cy)
        value = sign * np.clip(1 - d / 2, 0, 1)
        y = np.where(np.abs(value) > np.abs(y), value, y)
    return x, y


CLASSIFICATION: dict[str, Generator] = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
}
REGRESSION: dict[str, Generator] = {"plane": _plane, "multigauss": _multi_gauss}
DATASETS: dict[str, Generator] = {**CLASSIFICATION, **REGRESSION}

FEATURES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1sq": lambda a, b: a * a,
    "x2sq": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b,
    "sinx1": lambda a, b: np.sin(a),
    "sinx2": lambda a, b: np.sin(b),
}


def make_dataset(
    name: str, n: int = 500, noise: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`n` points (n, 2) and their labels (n,) of the dataset called `name`, shuffled."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    rng = np.random.default_rng(seed)
    x, y = DATASETS[name](n, float(noise), rng)
    order = rng.permutation(len(x))
    return x[order], y[order]


def split(
    x: np.ndarray, y: np.ndarray, train_percent: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first `train_percent` % of the (already shuffled) points train, the rest test."""
    k = round(len(x) * train_percent / 100)
    return x[:k], y[:k], x[k:], y[k:]


def features(points: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The feature matrix (n, len(names)) of `points` (n, 2), in float32."""
    a, b = points[:, 0], points[:, 1]
    columns = [FEATURES[name](a, b) for name in names]
    return np.stack(columns, axis=1).astype(np.float32)


def grid(size: int) -> np.ndarray:
    """The centres of a size × size grid over the domain, row by row from the top (x₂ = +6)."""
    ticks = (np.arange(size) + 0.5) / size * 2 * DOMAIN - DOMAIN
    x1, x2 = np.meshgrid(ticks, ticks[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)
