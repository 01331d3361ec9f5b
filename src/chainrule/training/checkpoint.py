"""Training checkpoints: a trainer's whole state in one chainrule archive, and back.

A checkpoint holds what a run needs to continue exactly where it stopped: the model's state
dict, the optimizer's state, the states of the callbacks (early-stopping counters, the
learning-rate schedule), the state of every random generator involved (the shuffling one, the
library's default one, any a module such as `Dropout` holds), the number of finished epochs,
the history, and the validation split. Arrays go into the archive's arrays, everything else
into its JSON (see `chainrule.archive.flatten_state`); nothing is pickled.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import rng as _rng
from chainrule.archive import flatten_state, read_archive, unflatten_state, write_archive
from chainrule.errors import ModelFileError
from chainrule.training.protocol import TrainerLike

KIND = "chainrule-checkpoint"
VERSION = 1


def save_checkpoint(path: str | os.PathLike[str], trainer: TrainerLike) -> None:
    """Write `trainer`'s state to `path` atomically (see `chainrule.archive.write_archive`)."""
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
    epoch, data = state["epoch"], state["data"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ModelFileError(f"{os.fspath(path)!r}: invalid epoch count {epoch!r}")
    if not isinstance(data, dict) or not isinstance(data.get("n_samples"), int):
        raise ModelFileError(f"{os.fspath(path)!r}: the checkpoint lacks its data description")
    if not all(isinstance(state[k], dict) for k in ("model", "callbacks", "rng", "history")):
        raise ModelFileError(f"{os.fspath(path)!r}: the checkpoint is malformed")
    return state


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
    """Load `state` (from `load_checkpoint`) into `trainer` and the objects it trains."""
    try:
        trainer.model.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])
        for key, cb in _callback_keys(trainer.callbacks).items():
            if key in state["callbacks"]:
                cb.load_state_dict(state["callbacks"][key])
        for name, gen in _generators(trainer).items():
            if name in state["rng"]:
                gen.bit_generator.state = state["rng"][name]
        trainer.history.load_state_dict(state["history"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot resume from {os.fspath(path)!r}: {exc}") from exc
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
