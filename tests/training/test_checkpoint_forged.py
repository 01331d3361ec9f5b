"""Forged checkpoints: every malformed one is a `ModelFileError` naming what is wrong.

Each case takes a real checkpoint, changes one part of its state, and writes it back as a
valid archive (correct CRCs), as a forger would. `cr.fit(resume_from=...)` must refuse it
before any step, with `cr.ModelFileError`, never RecursionError, AttributeError, IndexError,
OverflowError or a silently accepted index.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from trainkit import make_data

import chainrule as cr
from chainrule.errors import ModelFileError
from chainrule.saving.archive import read_archive

N = 30


def _setup() -> tuple[Any, Any]:
    cr.set_seed(0)
    model = cr.nn.Sequential(cr.nn.Dense(3, 8), cr.nn.ReLU(), cr.nn.Dense(8, 2))
    return model, cr.optim.Adam(model.parameters(), lr=0.01)


def _fit(path: Path, resume: bool, epochs: int = 2) -> Any:
    X, y = make_data(N)
    model, opt = _setup()
    return cr.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        opt,
        X,
        y,
        epochs=epochs,
        batch_size=8,
        seed=0,
        validation_split=0.2,
        callbacks=[cr.EarlyStopping(patience=5), cr.ModelCheckpoint(path)],
        resume_from=path if resume else None,
        progress=False,
    )


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    path = tmp_path_factory.mktemp("ckpt") / "run.crz"
    _fit(path, resume=False, epochs=1)
    return read_archive(path)


def _nest(depth: int) -> Any:
    tree: Any = 1
    for _ in range(depth):
        tree = [tree]
    return tree


def _set(*keys: str, value: Any) -> Callable[[dict], None]:
    def change(state: dict) -> None:
        for k in keys[:-1]:
            state = state[k]
        state[keys[-1]] = value

    return change


def _val_index(values: Any) -> Callable[[dict, dict], None]:
    def change(state: dict, arrays: dict) -> None:
        name = state["data"]["val_index"]["__array__"]
        arrays[name] = np.asarray(values)

    return change


# (what is forged, how, words the message must contain)
META_CASES = [
    ("state nested 500 deep", _set("model", "deep", value=_nest(500)), "nested"),
    ("history a list", _set("history", value={"history": [1, 2], "epoch": []}), "history"),
    ("history epochs text", _set("history", "epoch", value=["x"]), "history"),
    ("history huge number", _set("history", "epoch", value=[10**400]), "history"),
    ("n_samples negative", _set("data", "n_samples", value=-1), "n_samples"),
    ("epoch absurd", _set("epoch", value=10**30), "epoch"),
    ("stop_training text", _set("stop_training", value="yes"), "stop_training"),
    ("val_index text", _set("data", "val_index", value="abc"), "val_index"),
    ("val_index list too big", _set("data", "val_index", value=[10**30]), "val_index"),
    ("rng state junk", _set("rng", "shuffle", value={"bit_generator": "PCG64"}), "rng"),
    ("callback state a list", _set("callbacks", "EarlyStopping", value=[1]), "EarlyStopping"),
    ("callback best huge", _set("callbacks", "EarlyStopping", "best", value=10**400), "Early"),
]
ARRAY_CASES = [
    ("val_index negative", _val_index([-1, 2, 3, 4, 5, 6]), "val_index"),
    ("val_index past the end", _val_index([0, 1, 2, 3, 4, N]), "val_index"),
    ("val_index repeated", _val_index([1, 1, 2, 3, 4, 5]), "val_index"),
    ("val_index floats", _val_index([0.5, 1, 2, 3, 4, 5]), "val_index"),
    ("val_index 2-d", _val_index([[1, 2], [3, 4]]), "val_index"),
]


def _forge(tmp_path: Path, checkpoint: tuple[dict, dict], change: Callable) -> Path:
    arrays, meta = copy.deepcopy(checkpoint)
    if change.__code__.co_argcount == 2:
        change(meta["state"], arrays)
    else:
        change(meta["state"])
    path = tmp_path / "forged.crz"
    # Written without the writer's checks, as a forger's own tool would.
    _write_raw(path, arrays, meta)
    return path


def _write_raw(path: Path, arrays: dict, meta: dict) -> None:
    """An archive written without the writer's checks (as a forger's own tool would)."""
    import json
    import zipfile

    from chainrule.saving import archive

    manifest = [
        {"name": n, "dtype": np.asarray(a).dtype.str, "shape": list(np.shape(a))}
        for n, a in arrays.items()
    ]
    header = {"format": archive.FORMAT, "version": 1, "arrays": manifest, "meta": meta}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(archive.META_ENTRY, json.dumps(header))
        for i, a in enumerate(arrays.values()):
            with zf.open(f"arrays/{i}.npy", "w") as f:
                np.lib.format.write_array(f, np.asarray(a), allow_pickle=False)


@pytest.mark.parametrize(
    ("what", "change", "words"),
    META_CASES + ARRAY_CASES,
    ids=[c[0] for c in META_CASES + ARRAY_CASES],
)
def test_forged_checkpoints_are_model_file_errors_naming_the_problem(
    tmp_path: Path, checkpoint: tuple[dict, dict], what: str, change: Callable, words: str
) -> None:
    path = _forge(tmp_path, checkpoint, change)
    with pytest.raises(ModelFileError, match=words):
        _fit(path, resume=True, epochs=3)


def test_an_untouched_checkpoint_still_resumes(
    tmp_path: Path, checkpoint: tuple[dict, dict]
) -> None:
    path = _forge(tmp_path, checkpoint, lambda state: None)
    history = _fit(path, resume=True, epochs=3)
    assert history.epoch == [0, 1, 2]


def test_the_writer_refuses_the_nesting_the_reader_refuses() -> None:
    from chainrule.saving.archive import MAX_STATE_DEPTH, flatten_state, unflatten_state

    arrays, tree = flatten_state(_nest(MAX_STATE_DEPTH))
    assert unflatten_state(tree, arrays) == _nest(MAX_STATE_DEPTH)
    with pytest.raises(ValueError, match="nested more than"):
        flatten_state(_nest(MAX_STATE_DEPTH + 2))
    with pytest.raises(ModelFileError, match="nested more than"):
        unflatten_state(_nest(MAX_STATE_DEPTH + 2), {})
