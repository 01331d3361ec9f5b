"""The library's random state: `set_seed` and the generator every random choice draws from.

Initializers, dropout masks and shuffling take a `numpy.random.Generator` (or a seed) where the
caller has one; otherwise they draw from the default generator that `set_seed` re-seeds, so the
same seed and data give bit-identical results.
"""

from __future__ import annotations

import numpy as np

_default = np.random.default_rng()

Seed = int | np.random.Generator | None


def set_seed(seed: int) -> None:
    """Seed every random choice chainrule makes (initialization, dropout, shuffling)."""
    global _default
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an int, got {type(seed).__name__}")
    _default = np.random.default_rng(int(seed))


def default_rng() -> np.random.Generator:
    """The generator used when no seed or generator is passed."""
    return _default


def as_generator(seed: Seed = None) -> np.random.Generator:
    """A generator from a seed, a generator (returned as is) or None (the default generator)."""
    if seed is None:
        return _default
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an int or numpy.random.Generator, got {seed!r}")
    return np.random.default_rng(int(seed))
