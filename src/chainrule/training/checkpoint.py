"""Training checkpoints: a trainer's whole state in one chainrule archive, and back.

A checkpoint holds what a run needs to continue exactly where it stopped: the model's state
dict, the optimizer's state, the states of the callbacks (early-stopping counters, the
learning-rate schedule), the state of every random generator involved (the shuffling one, the
library's default one, any a module such as `Dropout` holds), the number of finished epochs,
the history, and the validation split. Arrays go into the archive's arrays, everything else
into its JSON (see `chainrule.saving.state.flatten_state`); nothing is pickled.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import rng as _rng
from chainrule.errors import ModelFileError
from chainrule.saving.archive import read_archive, write_archive
from chainrule.saving.state import flatten_state, unflatten_state
from chainrule.training.protocol import TrainerLike

KIND = "chainrule-checkpoint"
VERSION = 1


def save_checkpoint(path: str | os.PathLike[str], trainer: TrainerLike) -> None:
    """Write `trainer`'s state to `path` atomically (`chainrule.saving.archive.write_archive`)."""
    arrays, tree = flatten_state(trainer.state_dict())
    write_archive(path, arrays, {"kind": KIND, "version": VERSION, "state": tree})


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state saved by `save_checkpoint` (``cr.fit(resume_from=...)`` loads it).

    Raises
    ------
    FileNotFoundError
        No file at `path`.
    chainrule.errors.ModelFileError
        The file is not a chainrule checkpoint (for example a saved model), or is damaged.
    """
    arrays, meta = read_archive(path)
    if meta.get("kind") != KIND:
        what = meta.get("kind", "unknown content")
        raise ModelFileError(f"{os.fspath(path)!r} is not a training checkpoint (it holds {what})")
    version = meta.get("version")
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        raise ModelFileError(
            f"{os.fspath(path)!r}: checkpoint version {version!r} is not supported "
            f"(this chainrule reads up to {VERSION})"
        )
    state = unflatten_state(meta.get("state"), arrays)
    expected = {"epoch", "stop_training", "model", "optimizer", "callbacks", "rng", "history"}
    if not isinstance(state, dict) or not expected | {"data"} <= set(state):
        raise ModelFileError(f"{os.fspath(path)!r}: the checkpoint is incomplete")
    try:
        _check_state(state)
    except ValueError as exc:
        raise ModelFileError(f"{os.fspath(path)!r}: {exc}") from exc
    return state


# Epoch counts and row counts beyond this are not plausible (and could overflow int64).
_MAX_COUNT = 2**40


def _count(value: Any, what: str, high: int = _MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ValueError(f"invalid {what} {str(value)[:40]!r}: must be an integer in [0, {high}]")
    return value


def _check_state(state: dict[str, Any]) -> None:
    """ValueError naming the first malformed part of a checkpoint's state (all ranges)."""
    _count(state["epoch"], "epoch count")
    if not isinstance(state["stop_training"], bool):
        raise ValueError(f"stop_training must be true or false, got {state['stop_training']!r}")
    for key in ("model", "callbacks", "rng", "history"):
        if not isinstance(state[key], dict):
            raise ValueError(f"the {key} state must be a dict, got {type(state[key]).__name__}")
    _check_history(state["history"])
    data = state["data"]
    if not isinstance(data, dict) or "n_samples" not in data:
        raise ValueError("the checkpoint lacks its data description")
    n = _count(data["n_samples"], "n_samples")
    if data.get("val_index") is not None:
        data["val_index"] = _check_val_index(data["val_index"], n)


def _check_history(history: dict[str, Any]) -> None:
    values, epochs = history.get("history"), history.get("epoch")
    if not isinstance(values, dict) or not isinstance(epochs, list):
        raise ValueError("the history must hold a dict 'history' and a list 'epoch'")
    for e in epochs:
        _count(e, "history epoch")
    for key, column in values.items():
        if not isinstance(column, list) or len(column) != len(epochs):
            raise ValueError(f"history {key!r} must be a list with one number per epoch")
        for x in column:
            if isinstance(x, bool) or not isinstance(x, int | float) or abs(x) > 1.7e308:
                raise ValueError(f"history {key!r} holds {str(x)[:40]!r}, not a float")


def _check_val_index(index: Any, n_samples: int) -> np.ndarray:
    """The validation rows as int64, each in [0, n_samples) and none twice."""
    if isinstance(index, list):
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in index):
            raise ValueError("val_index must list integer row numbers")
        if index and not (min(index) >= 0 and max(index) < n_samples):  # before int64
            raise ValueError(f"val_index holds rows outside [0, {n_samples})")
        index = np.asarray(index, dtype=np.int64)
    if not isinstance(index, np.ndarray) or index.ndim != 1 or index.dtype.kind not in "iu":
        raise ValueError("val_index must be a 1-d array of integer row numbers")
    if index.size and not (index.min() >= 0 and index.max() < n_samples):
        raise ValueError(f"val_index holds rows outside [0, {n_samples})")
    if np.unique(index).size != index.size:
        raise ValueError("val_index lists a row twice")
    return index.astype(np.int64, copy=False)


def trainer_state(trainer: TrainerLike) -> dict[str, Any]:
    """Everything a resumed run needs, as nested dicts of JSON data and arrays."""
    callbacks = {}
    for key, cb in _callback_keys(trainer.callbacks).items():
        save = getattr(cb, "state_dict", None)
        state = save() if callable(save) else None
        if state is not None:
            callbacks[key] = state
    return {
        "epoch": trainer.epoch,
        "stop_training": trainer.stop_training,
        "model": trainer.model.state_dict(),
        "optimizer": trainer.optimizer.state_dict(),
        "callbacks": callbacks,
        "rng": {name: g.bit_generator.state for name, g in _generators(trainer).items()},
        "history": trainer.history.state_dict(),
        "data": {
            "n_samples": trainer._n_samples,
            "val_index": trainer._val_index,
            "batch_size": trainer._batch_size,
            "shuffle": trainer._shuffle,
            "batch_transform": transform_name(trainer._batch_transform),
        },
    }


def restore_trainer(
    trainer: TrainerLike, state: dict[str, Any], path: Any, batch_size: Any, shuffle: bool
) -> None:
    """Load `state` (from `load_checkpoint`) into `trainer` and the objects it trains.

    Raises ModelFileError naming the part (model, optimizer, a callback, a generator, the
    history) that does not fit, whatever the forged content makes the loader raise.
    """
    part = "the model state"
    try:
        trainer.model.load_state_dict(state["model"])
        if not all(np.all(np.isfinite(p.data)) for p in trainer.model.parameters()):
            raise ValueError("the weights hold NaN or infinite values")
        part = "the optimizer state"
        trainer.optimizer.load_state_dict(state["optimizer"])
        for key, cb in _callback_keys(trainer.callbacks).items():
            if key in state["callbacks"]:
                part = f"the state of callback {key!r}"
                cb.load_state_dict(state["callbacks"][key])
        for name, gen in _generators(trainer).items():
            if name in state["rng"]:
                part = f"the rng state of {name!r}"
                gen.bit_generator.state = state["rng"][name]
        part = "the history"
        trainer.history.load_state_dict(state["history"])
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError) as exc:
        raise ModelFileError(f"cannot resume from {os.fspath(path)!r}: {part}: {exc}") from exc
    trainer.epoch = int(state["epoch"])
    trainer.stop_training = bool(state["stop_training"])
    saved = state["data"]
    if saved.get("batch_size") != batch_size or saved.get("shuffle") != bool(shuffle):
        warnings.warn(
            f"resuming with batch_size={batch_size}, shuffle={shuffle}; the checkpoint was "
            f"made with batch_size={saved.get('batch_size')}, shuffle={saved.get('shuffle')}"
            ", so the run will not match an uninterrupted one",
            stacklevel=4,
        )
    transform = transform_name(trainer._batch_transform)
    if saved.get("batch_transform") != transform:
        warnings.warn(
            f"resuming with batch_transform={transform}; the checkpoint was made with "
            f"batch_transform={saved.get('batch_transform')}, so the run will not match an "
            "uninterrupted one",
            stacklevel=4,
        )


def transform_name(fn: Any) -> str | None:
    """A name for a batch transform (its function's, through `functools.partial`), or None."""
    if fn is None:
        return None
    inner = getattr(fn, "func", fn)
    return str(getattr(inner, "__qualname__", type(inner).__name__))


def _generators(trainer: TrainerLike) -> dict[str, np.random.Generator]:
    """Every generator the run draws from: shuffling, the library's, the modules' own."""
    gens = {"shuffle": trainer.rng, "library": _rng.default_rng()}
    named_modules = getattr(trainer.model, "named_modules", None)
    if callable(named_modules):
        for name, module in named_modules():
            for attr, value in vars(module).items():
                if isinstance(value, np.random.Generator):
                    gens[f"model.{name}.{attr}" if name else f"model.{attr}"] = value
    return gens


def _callback_keys(callbacks: Sequence[Any]) -> dict[str, Any]:
    """Names for the callbacks' saved states: the class name, numbered from the second one of
    a class on ("EarlyStopping", "EarlyStopping#2"), so adding a callback of another class
    does not detach the others from their states."""
    keys: dict[str, Any] = {}
    for cb in callbacks:
        name = type(cb).__name__
        key, k = name, 1
        while key in keys:
            k += 1
            key = f"{name}#{k}"
        keys[key] = cb
    return keys
