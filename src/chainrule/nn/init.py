"""Weight initializers: ``init(shape, rng=None, dtype=np.float32, ...) -> numpy.ndarray``.

Every initializer takes the shape of the array to make, a random generator (or a seed, or None
for the library's default generator that `cr.set_seed` seeds) and a dtype, and returns a fresh
array. Weights follow the lecture's layout W⁽ᵏ⁾ of shape (out, in) = (N_k, N_{k−1}), so

    fan_in  = shape[1] · receptive field   (the inputs each unit sums over, N_{k−1})
    fan_out = shape[0] · receptive field   (the units each input feeds, N_k)

where the receptive field is the product of any further axes (1 for dense layers), as in Glorot &
Bengio (2010) and He et al. (2015).

Use them by name in ``Dense(init="he_normal")``; `INITIALIZERS` and `get_initializer` map the
names (also the short options "zeros", "normal", "xavier", "he") to the functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.rng import Seed, as_generator

Shape = int | tuple[int, ...]
Initializer = Callable[..., npt.NDArray[Any]]

__all__ = [
    "INITIALIZERS",
    "Initializer",
    "constant",
    "fans",
    "get_initializer",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "normal",
    "ones",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]


def _shape(shape: Shape) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    if any(int(n) < 0 for n in shape):
        raise ValueError(f"shape must have non-negative sizes, got {shape}")
    return tuple(int(n) for n in shape)


def fans(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of `shape` stored (out, in, *receptive field)."""
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(
            f"fan-in/fan-out need a weight with at least 2 dimensions (out, in), got shape {shape}"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _standard(kind: str, shape: tuple[int, ...], rng: Seed, dtype: Any) -> Any:
    """U(0, 1) (`kind` "random") or N(0, 1) ("standard_normal") as `dtype`, drawn directly in
    float32/float64 (no float64 temporary for float32)."""
    draw = getattr(as_generator(rng), kind)
    if dtype in (np.float32, np.float64):
        return draw(shape, dtype=dtype)
    return draw(shape).astype(dtype)


def _uniform(shape: tuple[int, ...], low: float, high: float, rng: Seed, dtype: Any) -> Any:
    """U(low, high) = low + (high − low) U(0, 1)."""
    dtype = np.dtype(dtype)
    out = _standard("random", shape, rng, dtype)
    out *= dtype.type(high - low)
    out += dtype.type(low)
    return out


def _normal(shape: tuple[int, ...], mean: float, std: float, rng: Seed, dtype: Any) -> Any:
    """N(mean, std²) = mean + std N(0, 1)."""
    dtype = np.dtype(dtype)
    out = _standard("standard_normal", shape, rng, dtype)
    out *= dtype.type(std)
    if mean:
        out += dtype.type(mean)
    return out


def zeros(shape: Shape, rng: Seed = None, dtype: npt.DTypeLike = np.float32) -> Any:
    """All zeros (the usual bias initialization).

    For weights this is the lecture's example of what *not* to do: with W = 0 every unit of a
    layer computes the same a = W z + b, so every unit receives the same δ and the same update
    ∂E/∂W = δ zᵀ. The units stay identical copies of each other for ever (the symmetry is never
    broken) and the layer behaves like a single unit; in a sigmoid/tanh net with zero weights
    only the biases of the last layer even receive a non-zero gradient. Random initialization
    breaks the symmetry. `rng` is ignored; it is accepted so all initializers share a signature.
    """
    return np.zeros(_shape(shape), dtype=dtype)


def ones(shape: Shape, rng: Seed = None, dtype: npt.DTypeLike = np.float32) -> Any:
    """All ones (batch-norm scales γ start here)."""
    return np.ones(_shape(shape), dtype=dtype)


def constant(
    shape: Shape, rng: Seed = None, dtype: npt.DTypeLike = np.float32, value: float = 0.0
) -> Any:
    """Every element equal to `value` (has the symmetry problem of `zeros` for weights)."""
    return np.full(_shape(shape), value, dtype=dtype)


def normal(
    shape: Shape,
    rng: Seed = None,
    dtype: npt.DTypeLike = np.float32,
    mean: float = 0.0,
    std: float = 0.05,
) -> Any:
    """w ~ N(mean, std²), a fixed scale that ignores the layer size (Keras's default 0.05)."""
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    return _normal(_shape(shape), mean, std, rng, dtype)


def uniform(
    shape: Shape,
    rng: Seed = None,
    dtype: npt.DTypeLike = np.float32,
    low: float = -0.05,
    high: float = 0.05,
) -> Any:
    """w ~ U(low, high), a fixed range that ignores the layer size."""
    if not low <= high:
        raise ValueError(f"uniform needs low <= high, got low={low}, high={high}")
    return _uniform(_shape(shape), low, high, rng, dtype)


def xavier_uniform(
    shape: Shape, rng: Seed = None, dtype: npt.DTypeLike = np.float32, gain: float = 1.0
) -> Any:
    """Glorot & Bengio (2010): w ~ U(−r, r) with r = gain · √(6 / (fan_in + fan_out)).

    Var(w) = r²/3 = 2 / (fan_in + fan_out), the compromise that keeps the variance of both the
    forward activations and the backward δ roughly constant for tanh/sigmoid-like units.
    """
    fan_in, fan_out = fans(shape)
    bound = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return _uniform(_shape(shape), -bound, bound, rng, dtype)


def xavier_normal(
    shape: Shape, rng: Seed = None, dtype: npt.DTypeLike = np.float32, gain: float = 1.0
) -> Any:
    """Glorot & Bengio (2010): w ~ N(0, σ²) with σ = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    std = gain * math.sqrt(2.0 / max(fan_in + fan_out, 1))
    return _normal(_shape(shape), 0.0, std, rng, dtype)


def _he_fan(shape: Shape, mode: str) -> int:
    fan_in, fan_out = fans(shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return max(fan_in if mode == "fan_in" else fan_out, 1)


def he_uniform(
    shape: Shape, rng: Seed = None, dtype: npt.DTypeLike = np.float32, mode: str = "fan_in"
) -> Any:
    """He et al. (2015): w ~ U(−r, r) with r = √(6 / fan_in), so Var(w) = 2 / fan_in.

    The factor 2 makes up for ReLU zeroing half of its inputs, keeping the variance of the
    activations constant from layer to layer. ``mode="fan_out"`` preserves the backward pass
    instead.
    """
    bound = math.sqrt(6.0 / _he_fan(shape, mode))
    return _uniform(_shape(shape), -bound, bound, rng, dtype)


def he_normal(
    shape: Shape, rng: Seed = None, dtype: npt.DTypeLike = np.float32, mode: str = "fan_in"
) -> Any:
    """He et al. (2015): w ~ N(0, σ²) with σ = √(2 / fan_in), for ReLU networks."""
    std = math.sqrt(2.0 / _he_fan(shape, mode))
    return _normal(_shape(shape), 0.0, std, rng, dtype)


# The papers' authors' names for the same functions.
glorot_uniform = xavier_uniform
glorot_normal = xavier_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal

INITIALIZERS: dict[str, Initializer] = {
    "zeros": zeros,
    "ones": ones,
    "constant": constant,
    "normal": normal,
    "uniform": uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_uniform": kaiming_uniform,
    "kaiming_normal": kaiming_normal,
    # Short options for estimators and the command line.
    "xavier": xavier_uniform,
    "glorot": xavier_uniform,
    "he": he_normal,
    "kaiming": he_normal,
}


def get_initializer(init: str | Initializer) -> Initializer:
    """The initializer called `init` in `INITIALIZERS`, or `init` itself if it is callable."""
    if callable(init):
        return init
    if isinstance(init, str) and init.lower() in INITIALIZERS:
        return INITIALIZERS[init.lower()]
    raise ValueError(f"unknown initializer {init!r}; valid names: {', '.join(INITIALIZERS)}")
