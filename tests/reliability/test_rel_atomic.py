"""Promise 2: `cr.save` and checkpoints replace a file atomically, so a crash loses nothing.

A writer killed with SIGKILL at a random moment leaves the old file or the new one, never a
mixture; a normal save leaves no temporary file behind; a failed save keeps the old file.
(The archive layer has its own kill tests: tests/test_archive.py.)
"""

from __future__ import annotations

import errno
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.training import load_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")


def _kill_a_writer(folder: Path, write: Callable[[int], None], rnd: random.Random) -> bool:
    """Fork a writer that saves version 1, 2, 1, 2, ... until it is killed; SIGKILL it at a
    random moment. Returns whether the kill left a temporary file (landed mid-write)."""
    before = {p.name for p in folder.iterdir()}
    pid = os.fork()
    if pid == 0:  # the writer; it never returns into pytest
        try:
            k = 0
            while True:
                write(k % 2 + 1)
                k += 1
        finally:
            os._exit(1)
    time.sleep(rnd.uniform(0.0, 0.05))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    new = {p.name for p in folder.iterdir()} - before
    return any(name.endswith(".tmp") for name in new)


def _network(version: int) -> cr.nn.Module:
    net = cr.nn.Sequential(cr.nn.Dense(400, 400), cr.nn.ReLU(), cr.nn.Dense(400, 10))
    for p in net.parameters():
        p.data[...] = version
    return net


def _version_of(model: cr.nn.Module) -> int:
    values = {float(v) for p in model.parameters() for v in np.unique(p.data)}
    assert len(values) == 1, f"a mixture of versions: {sorted(values)[:4]}"
    return int(values.pop())


def test_killed_saves_leave_the_old_or_the_new_model(tmp_path):
    target = tmp_path / "model.chainrule"
    cr.save(_network(1), target)
    rnd = random.Random(0)
    versions, mid_write = [], 0
    for _ in range(20):
        mid_write += _kill_a_writer(tmp_path, lambda v: cr.save(_network(v), target), rnd)
        versions.append(_version_of(cr.load(target)))  # loads: never a mixture
    assert set(versions) <= {1, 2}
    # The kills did land in the middle of writes: temporaries were left behind...
    assert mid_write >= 1
    # ...and only temporaries: nothing else beside the target.
    strays = sorted(p.name for p in tmp_path.iterdir() if p != target)
    assert all(name.startswith(".model.chainrule.") and name.endswith(".tmp") for name in strays)


@pytest.mark.slow
def test_killed_saves_many_times(tmp_path):
    target = tmp_path / "model.chainrule"
    cr.save(_network(1), target)
    rnd = random.Random(1)
    for _ in range(200):
        _kill_a_writer(tmp_path, lambda v: cr.save(_network(v), target), rnd)
        assert _version_of(cr.load(target)) in (1, 2)


def test_killed_estimator_saves_leave_a_loadable_estimator(tmp_path):
    X = np.random.default_rng(0).normal(size=(50, 30)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = cr.MLPClassifier(hidden_layer_sizes=(300, 300), epochs=1, random_state=0).fit(X, y)
    target = tmp_path / "clf.chainrule"

    def write(version: int) -> None:
        for p in clf.model_.parameters():
            p.data[...] = version
        cr.save(clf, target)

    write(1)
    rnd = random.Random(2)
    for _ in range(10):
        _kill_a_writer(tmp_path, write, rnd)
        loaded = cr.load(target)
        assert _version_of(loaded.model_) in (1, 2)
        assert loaded.predict(X).shape == (50,)


def test_killed_training_leaves_a_checkpoint_that_resumes(tmp_path):
    # Training with a checkpoint after every epoch, killed at random moments: the checkpoint
    # on disk always loads, and training resumes from it to the end.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 20)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    target = tmp_path / "run.ckpt"

    def build() -> tuple[cr.nn.Module, cr.optim.Optimizer]:
        cr.set_seed(0)
        net = cr.nn.Sequential(cr.nn.Dense(20, 256), cr.nn.Tanh(), cr.nn.Dense(256, 2))
        return net, cr.optim.Adam(net.parameters(), lr=1e-3)

    def train(_: int) -> None:
        net, opt = build()
        callbacks = [cr.ModelCheckpoint(target)]
        resume = target if target.exists() else None
        loss = cr.nn.CrossEntropyLoss()
        cr.fit(net, loss, opt, X, y, epochs=10**6, batch_size=16, seed=0, progress=False,
               callbacks=callbacks, resume_from=resume)  # fmt: skip

    rnd = random.Random(3)
    epochs, mid_write = [], 0
    for _ in range(15):
        mid_write += _kill_a_writer(tmp_path, train, rnd)
        if target.exists():
            state = load_checkpoint(target)  # never half-written
            epochs.append(state["epoch"])
    assert len(epochs) >= 10 and epochs == sorted(epochs)  # progress is kept across kills
    assert mid_write >= 1  # some kills hit a checkpoint being written
    net, opt = build()
    history = cr.fit(net, cr.nn.CrossEntropyLoss(), opt, X, y, epochs=epochs[-1] + 2,
                     batch_size=16, seed=0, progress=False, resume_from=target)  # fmt: skip
    assert len(history["loss"]) == epochs[-1] + 2  # the restored epochs, then two more
    assert np.isfinite(history["loss"]).all()


# ---------------------------------------------------------------------- normal and failed saves
def test_normal_saves_leave_no_temporary_files(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = cr.nn.Sequential(cr.nn.Dense(3, 2))
    for _ in range(3):  # creating, then replacing
        cr.save(net, tmp_path / "net.chainrule")
    clf = cr.MLPClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, y)
    cr.save(clf, tmp_path / "clf.chainrule")
    opt = cr.optim.SGD(net.parameters(), lr=0.1)
    checkpoint = cr.ModelCheckpoint(tmp_path / "ck-{epoch}.ckpt", every=2)
    cr.fit(net, cr.nn.CrossEntropyLoss(), opt, X, y, epochs=4, callbacks=[checkpoint],
           progress=False)  # fmt: skip
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ck-2.ckpt", "ck-4.ckpt", "clf.chainrule", "net.chainrule"]


def test_a_failing_disk_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "net.chainrule"
    cr.save(_network(1), target)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        cr.save(_network(2), target)
    monkeypatch.undo()
    assert _version_of(cr.load(target)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["net.chainrule"]


def test_a_model_that_cannot_be_stored_keeps_the_old_file(tmp_path):
    target = tmp_path / "net.chainrule"
    cr.save(_network(1), target)
    broken = _network(2)
    broken[0].weight.data[0, 0] = np.nan  # e.g. weights set by hand after a divergence
    with pytest.raises(ValueError, match=r"'0\.weight' hold NaN or infinite values"):
        cr.save(broken, target)
    assert _version_of(cr.load(target)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["net.chainrule"]
