"""Checkpoints and resuming: killed (for real) and resumed runs end bit-identical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from trainkit import make_data, same_weights

import chainrule as cr
from chainrule.errors import ModelFileError
from chainrule.optim.schedules import ReduceLROnPlateau
from chainrule.saving.archive import read_archive, write_archive
from chainrule.training import load_checkpoint
from killkit import kill_process

SCRIPT = Path(__file__).with_name("resume_script.py")


def _build(optimizer: str, dropout: bool):
    cr.set_seed(0)
    layers = [cr.nn.Dense(3, 8), cr.nn.ReLU()]
    if dropout:
        layers += [cr.nn.Dropout(0.25), cr.nn.Dense(8, 8), cr.nn.Dropout(0.25, rng=1)]
    model = cr.nn.Sequential(*layers, cr.nn.Dense(8, 2))
    if optimizer == "adam":
        opt = cr.optim.Adam(model.parameters(), lr=0.02)
    else:
        opt = cr.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, nesterov=True)
    return model, opt


def _train(epochs, *, checkpoint=None, resume=False, seed, batch_size, optimizer, dropout):
    X, y = make_data(50)
    model, opt = _build(optimizer, dropout)
    callbacks = [cr.EarlyStopping(patience=3)]
    if checkpoint is not None:
        callbacks.append(cr.ModelCheckpoint(checkpoint))
    history = cr.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        opt,
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        validation_split=0.2,
        callbacks=callbacks,
        scheduler=ReduceLROnPlateau(opt, patience=1, factor=0.5),
        resume_from=checkpoint if resume else None,
        progress=False,
    )
    return model, opt, history


@pytest.mark.parametrize(
    ("seed", "batch_size", "optimizer", "dropout"),
    [
        (None, 8, "adam", True),
        (7, 1, "sgd", True),
        ("generator", None, "adam", False),
        (3, 16, "sgd", False),
    ],
)
def test_resumed_run_equals_uninterrupted_run(tmp_path, seed, batch_size, optimizer, dropout):
    def seeded():
        return np.random.default_rng(11) if seed == "generator" else seed

    kw = {"batch_size": batch_size, "optimizer": optimizer, "dropout": dropout}
    full_model, full_opt, full_history = _train(8, seed=seeded(), **kw)
    path = tmp_path / "ckpt.crz"
    _train(3, checkpoint=path, seed=seeded(), **kw)
    assert load_checkpoint(path)["epoch"] == 3
    cr.set_seed(12345)  # whatever happened in between must not matter
    model, opt, history = _train(8, checkpoint=path, resume=True, seed=seeded(), **kw)
    assert same_weights(model.state_dict(), full_model.state_dict())
    assert history.history == full_history.history
    assert opt.param_groups[0]["lr"] == full_opt.param_groups[0]["lr"]


def test_checkpoint_contents(tmp_path):
    path = tmp_path / "c.crz"
    _, _, history = _train(
        4, checkpoint=path, seed=1, batch_size=10, optimizer="adam", dropout=True
    )
    state = load_checkpoint(path)
    assert state["epoch"] == len(history) == 4
    assert state["history"]["history"] == history.history
    assert set(state["rng"]) == {"shuffle", "library", "model.4.rng"}
    assert set(state["callbacks"]) == {"EarlyStopping", "LearningRateScheduler"}
    assert state["optimizer"]["state"][0]["step"] == 4 * 4  # ⌈40/10⌉ steps per epoch
    assert len(state["data"]["val_index"]) == 10
    arrays, meta = read_archive(path)  # an ordinary archive: no pickle anywhere
    assert meta["kind"] == "chainrule-checkpoint"
    assert all(a.dtype != object for a in arrays.values())


def test_every_n_epochs_and_at_the_end(tmp_path):
    X, y = make_data(20)
    model, opt = _build("sgd", False)
    cp = cr.ModelCheckpoint(tmp_path / "ck-{epoch:02d}.crz", every=3)
    cr.fit(model, cr.nn.CrossEntropyLoss(), opt, X, y, epochs=7, callbacks=[cp], progress=False)
    assert sorted(os.listdir(tmp_path)) == ["ck-03.crz", "ck-06.crz", "ck-07.crz"]
    assert load_checkpoint(tmp_path / "ck-06.crz")["epoch"] == 6
    assert cp.last_path == str(tmp_path / "ck-07.crz")


def test_checkpoint_cleans_temporaries_of_a_killed_writer(tmp_path):
    stray = tmp_path / ".c.crz.0123456789ab.tmp"
    unrelated = tmp_path / ".other.crz.0123456789ab.tmp"
    stray.write_bytes(b"half")
    unrelated.write_bytes(b"keep")
    X, y = make_data(20)
    model, opt = _build("sgd", False)
    cr.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        opt,
        X,
        y,
        epochs=1,
        progress=False,
        callbacks=[cr.ModelCheckpoint(tmp_path / "c.crz")],
    )
    assert sorted(os.listdir(tmp_path)) == [unrelated.name, "c.crz"]


def test_resume_errors(tmp_path):
    X, y = make_data(20)
    model, opt = _build("sgd", False)
    loss = cr.nn.CrossEntropyLoss()
    with pytest.raises(FileNotFoundError):
        cr.fit(model, loss, opt, X, y, epochs=2, resume_from=tmp_path / "missing.crz")
    write_archive(tmp_path / "model.crz", {"w": np.ones(2)}, {"kind": "model"})
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        cr.fit(model, loss, opt, X, y, epochs=2, resume_from=tmp_path / "model.crz")
    (tmp_path / "junk.crz").write_bytes(b"junk")
    with pytest.raises(ModelFileError):
        cr.fit(model, loss, opt, X, y, epochs=2, resume_from=tmp_path / "junk.crz")
    cr.fit(
        model,
        loss,
        opt,
        X,
        y,
        epochs=1,
        progress=False,
        callbacks=[cr.ModelCheckpoint(tmp_path / "ok.crz")],
    )
    with pytest.raises(ValueError, match="made with 20 samples, X has 19"):
        cr.fit(model, loss, opt, X[:19], y[:19], epochs=2, resume_from=tmp_path / "ok.crz")
    other, other_opt = _build("adam", True)
    with pytest.raises(ValueError, match="cannot resume"):
        cr.fit(
            other, loss, other_opt, X, y, epochs=2, resume_from=tmp_path / "ok.crz", progress=False
        )
    with pytest.warns(UserWarning, match="batch_size=5"):
        cr.fit(
            model,
            loss,
            opt,
            X,
            y,
            epochs=2,
            batch_size=5,
            resume_from=tmp_path / "ok.crz",
            progress=False,
        )


def test_resuming_a_finished_run_trains_no_more(tmp_path):
    path = tmp_path / "done.crz"
    model, _, history = _train(
        3, checkpoint=path, seed=0, batch_size=8, optimizer="sgd", dropout=False
    )
    again, _, resumed = _train(
        3, checkpoint=path, resume=True, seed=0, batch_size=8, optimizer="sgd", dropout=False
    )
    assert resumed.history == history.history
    assert same_weights(again.state_dict(), model.state_dict())


# ---------------------------------------------------------------------- a real kill
def _script(mode, checkpoint, out, epochs, sleep=0.0):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(SCRIPT), mode, str(checkpoint), str(out), str(epochs), str(sleep)]
    return subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)


def _finish(proc):
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


def _kill_after_checkpoint(proc, checkpoint, after_epoch, delay):
    """SIGKILL `proc` `delay` seconds after its checkpoint passes `after_epoch` epochs."""

    def passed() -> bool:
        try:
            return load_checkpoint(checkpoint)["epoch"] > after_epoch
        except FileNotFoundError:
            return False

    kill_process(proc, passed, delay)


def _check_same_as_full(tmp_path, checkpoint, epochs):
    full = _script("full", "unused", tmp_path / "full.crz", epochs)
    resumed = _script("resume", checkpoint, tmp_path / "resumed.crz", epochs)
    _finish(full)
    _finish(resumed)
    full_arrays, full_meta = read_archive(tmp_path / "full.crz")
    resumed_arrays, resumed_meta = read_archive(tmp_path / "resumed.crz")
    assert same_weights(full_arrays, resumed_arrays)
    assert full_meta["history"] == resumed_meta["history"]
    assert len(full_meta["history"]["loss"]) == epochs
    # The CSV log of the killed-and-resumed run has each epoch once, with the same numbers.
    resumed_csv = Path(str(checkpoint) + ".csv").read_text()
    assert resumed_csv == Path(str(tmp_path / "full.crz") + ".csv").read_text()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_run_killed_with_sigkill_and_resumed_ends_bit_identical(tmp_path):
    epochs, checkpoint = 30, tmp_path / "run.crz"
    proc = _script("checkpointed", checkpoint, tmp_path / "killed.crz", epochs, sleep=0.03)
    _kill_after_checkpoint(proc, checkpoint, after_epoch=0, delay=0.1)
    assert 1 <= load_checkpoint(checkpoint)["epoch"] < epochs
    _check_same_as_full(tmp_path, checkpoint, epochs)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_run_killed_many_times_ends_bit_identical(tmp_path):
    epochs, checkpoint = 40, tmp_path / "run.crz"
    rnd = np.random.default_rng(0)
    proc = _script("checkpointed", checkpoint, tmp_path / "killed.crz", epochs, sleep=0.01)
    _kill_after_checkpoint(proc, checkpoint, after_epoch=0, delay=rnd.uniform(0, 0.05))
    for _ in range(6):  # each resumed run is killed again, at a random moment
        done = load_checkpoint(checkpoint)["epoch"]
        proc = _script("resume", checkpoint, tmp_path / "killed.crz", epochs, sleep=0.01)
        _kill_after_checkpoint(proc, checkpoint, after_epoch=done, delay=rnd.uniform(0, 0.05))
    assert load_checkpoint(checkpoint)["epoch"] < epochs
    _check_same_as_full(tmp_path, checkpoint, epochs)
