"""What `Trainer.fit` makes of its arguments: arrays in the model's dtype, the validation part,
the training rows, the shuffling generator. The checks themselves are `chainrule.data`'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule import rng as _rng
from chainrule.data.arrays import check_fit_arrays, is_sparse, n_rows
from chainrule.data.splits import split_indices

Array = npt.NDArray[Any]
Part = tuple[Array | None, ...]


def check_data(
    model: Any, X: Any, y: Any, w: Any = None, prefix: str = ""
) -> tuple[Array, Array, Array | None]:
    """`check_fit_arrays` in the dtype of the model's parameters."""
    return check_fit_arrays(X, y, w, param_dtype(model), prefix)


def check_rows(rows: Any, n: int, validation_split: float) -> Array:
    """`Trainer.fit`'s ``train_rows``: a non-empty 1-d array of row indices into n rows."""
    if validation_split:
        raise ValueError("give train_rows or validation_split, not both")
    idx = np.asarray(rows)
    if idx.ndim != 1 or len(idx) == 0 or idx.dtype.kind not in "iu":
        raise ValueError(f"train_rows must be a non-empty 1-d array of row indices, got {idx!r}")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"train_rows must lie in [0, {n}), got {idx.min()}..{idx.max()}")
    return idx.astype(np.intp, copy=False)


def split_data(
    model: Any,
    data: Part,
    validation_data: Sequence[Any] | None,
    fraction: float,
    saved_val_index: Any,
    rng: np.random.Generator,
) -> tuple[Part | None, Array | None, Array | None]:
    """(validation part or None, held-out row indices or None, training row indices or None).

    A `validation_split` holds out ⌈fraction · n⌉ random rows (drawn from `rng`); the training
    rows stay in data order. `saved_val_index` (from a checkpoint) reuses a resumed run's split.
    The training part is not copied: the batches are gathered from `data` at the training row
    indices (None: all rows), so a split adds only the (small) validation copy to memory.
    """
    if validation_data is not None:
        if fraction:
            raise ValueError("give validation_data or validation_split, not both")
        if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (X_val, y_val[, sample_weight])")
        v = (*validation_data, None)[:3]
        return check_data(model, v[0], v[1], v[2], "validation "), None, None
    if not fraction:
        return None, None, None
    n = n_rows(data[0])
    if saved_val_index is not None:  # the resumed run validates on the same samples
        val_idx = np.asarray(saved_val_index, dtype=np.int64)
        train_idx = np.setdiff1d(np.arange(n), val_idx)
    else:
        train_idx, val_idx = split_indices(n, fraction, rng=rng)
        train_idx = np.sort(train_idx)  # in data order, as a resumed run rebuilds it

    def take(a: Array | None, idx: Array) -> Array | None:
        if a is None:
            return None
        return a[idx] if is_sparse(a) else np.take(a, idx, axis=0)  # sparse rows stay sparse

    return tuple(take(a, val_idx) for a in data), val_idx, train_idx


def param_dtype(model: Any) -> np.dtype[Any]:
    """The floating dtype of the model's parameters (float32 if it has none)."""
    for p in model.parameters():
        if p.data.dtype.kind == "f":
            return p.data.dtype
    return np.dtype(np.float32)


def seeded_generator(seed: _rng.Seed) -> np.random.Generator:
    """The shuffling generator for `seed` (an int also re-seeds the library, see `fit`)."""
    if seed is None or isinstance(seed, np.random.Generator):
        return _rng.as_generator(seed)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an int, a numpy.random.Generator or None, got {seed!r}")
    _rng.set_seed(int(seed))  # dropout masks and the like
    # A child stream of the same seed: shuffling is independent of the library's draws.
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0,)))
