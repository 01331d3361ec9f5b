"""Promise 2: `cr.save` and checkpoints replace a file atomically, so a crash loses nothing.

A writer killed with SIGKILL at a random moment leaves the old file or the new one, never a
mixture; a normal save leaves no temporary file behind; a failed save keeps the old file.
(The archive layer has its own kill tests: tests/saving/test_archive.py; all use
tests/killkit.py.)
"""

from __future__ import annotations

import errno
import os
import random
from collections.abc import Callable

import numpy as np
import pytest

import chainrule as cr
from chainrule.training import load_checkpoint
from killkit import kill_a_writer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")


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
        mid_write += kill_a_writer(
            tmp_path, lambda v: cr.save(_network(v), target), rnd.uniform(0, 0.05)
        )
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
        kill_a_writer(tmp_path, lambda v: cr.save(_network(v), target), rnd.uniform(0, 0.05))
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
        kill_a_writer(tmp_path, write, rnd.uniform(0, 0.05))
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

    def written_since(inode: int | None) -> Callable[[], bool]:
        # Ready once this run has written a checkpoint: a kill before that proves nothing
        # (a loaded machine may take long to start a run), and no run is left without progress.
        # Each checkpoint is a new file (written beside the old one, then renamed over it), so
        # a new inode number means a new checkpoint.
        return lambda: target.exists() and target.stat().st_ino != inode

    rnd = random.Random(3)
    epochs, mid_write = [], 0
    for _ in range(15):
        inode = target.stat().st_ino if target.exists() else None
        delay = rnd.uniform(0, 0.05)  # a random point of the epochs that follow
        mid_write += kill_a_writer(tmp_path, train, delay, ready=written_since(inode))
        if target.exists():
            state = load_checkpoint(target)  # never half-written
            epochs.append(state["epoch"])
    assert len(epochs) == 15 and epochs == sorted(epochs)  # progress is kept across kills
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
