"""Data sets for the tutorials, tests and the command line.

- `shifted_patterns`: generated 1-d signals whose class is a shape that can appear anywhere
  along the signal (NumPy only);
- `load_digits_frame`, `load_breast_cancer_frame`: scikit-learn's bundled real tables as
  pandas DataFrames with a named target column (what ``chainrule train`` uses without DATA).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.rng import Seed, as_generator

__all__ = [
    "BREAST_CANCER_TARGET",
    "DIGITS_TARGET",
    "PATTERN_NAMES",
    "load_breast_cancer_frame",
    "load_digits_frame",
    "pattern_templates",
    "shifted_patterns",
]

PATTERN_NAMES = ("bump", "dip", "up-down", "double bump")
# The target columns of the bundled tables.
DIGITS_TARGET = "digit"
BREAST_CANCER_TARGET = "diagnosis"


def pattern_templates(width: int = 11) -> np.ndarray:
    """The class templates, shape (4, width): a bump, a dip, an up-down wave, two bumps."""
    t = np.arange(width) - (width - 1) / 2
    bump = np.exp(-0.5 * (t / 1.5) ** 2)
    wave = -t * np.exp(-0.5 * (t / 2.0) ** 2)
    wave /= np.abs(wave).max()
    double = np.exp(-0.5 * ((t - 3) / 0.8) ** 2) + np.exp(-0.5 * ((t + 3) / 0.8) ** 2)
    return np.stack([bump, -bump, wave, double])


def shifted_patterns(
    n_samples: int = 1000,
    length: int = 40,
    noise: float = 0.3,
    random_state: Seed = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Signals of `length` values, each one template of `pattern_templates` placed at a random
    position, scaled by a random amplitude in [0.6, 1.4], plus Gaussian noise of std `noise`.

    The class is the template (4 classes, balanced in expectation). Where the pattern sits
    carries no information: a convolution, which applies the same filter everywhere, needs to
    learn each shape once; a dense layer must learn it at every position.

    Returns
    -------
    X : ndarray of shape (n_samples, 1, length), float32
        One channel per signal (``X.reshape(n, -1)`` gives flat rows).
    y : ndarray of shape (n_samples,), int64
    """
    templates = pattern_templates()
    width = templates.shape[1]
    if isinstance(length, bool) or not isinstance(length, int) or length < width:
        raise ValueError(f"length must be an integer >= {width}, got {length!r}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    gen = as_generator(random_state)
    y = gen.integers(0, len(templates), n_samples)
    start = gen.integers(0, length - width + 1, n_samples)
    amplitude = gen.uniform(0.6, 1.4, n_samples)
    X = noise * gen.standard_normal((n_samples, length))
    # place every pattern at once: row i, columns start_i … start_i + width − 1
    cols = start[:, None] + np.arange(width)
    X[np.arange(n_samples)[:, None], cols] += amplitude[:, None] * templates[y]
    return X[:, None, :].astype(np.float32), y.astype(np.int64)


def load_digits_frame() -> Any:
    """scikit-learn's bundled digits: 1797 images of 8×8 pixels (0–16) and their digit."""
    from sklearn.datasets import load_digits

    bunch = load_digits(as_frame=True)
    frame = bunch.frame.rename(columns={"target": DIGITS_TARGET})
    return frame


def load_breast_cancer_frame() -> Any:
    """scikit-learn's breast cancer data: 569 tumours, 30 measurements, the diagnosis."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.drop(columns=["target"])
    frame[BREAST_CANCER_TARGET] = bunch.target_names[bunch.target.to_numpy()]
    return frame
