"""Callbacks: hook order, early stopping, schedules, loggers, progress display, names."""

from __future__ import annotations

import csv
import io
import json
import sys

import numpy as np
import pytest
from trainkit import Recorder, make_data, make_model, same_weights

import chainrule as cr
from chainrule.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    JSONLinesLogger,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
)
from chainrule.optim.schedules import ReduceLROnPlateau, StepLR


def _fit(model=None, callbacks=(), epochs=5, opt=None, **kw):
    X, y = make_data(30)
    model = model or make_model()
    opt = opt or cr.optim.SGD(model.parameters(), lr=0.1)
    kw.setdefault("progress", False)
    return cr.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        opt,
        X,
        y,
        epochs=epochs,
        batch_size=10,
        callbacks=list(callbacks),
        **kw,
    )


class Inject(Callback):
    """Logs a scripted value under `key` each epoch (runs before the callbacks after it)."""

    def __init__(self, key, values):
        self.key, self.values = key, values

    def on_epoch_end(self, trainer, epoch, logs):
        logs[self.key] = self.values[epoch]


def test_names_are_exported():
    assert cr.EarlyStopping is EarlyStopping and cr.ModelCheckpoint is ModelCheckpoint
    assert cr.callbacks.CSVLogger is CSVLogger and cr.History is cr.training.History
    assert cr.fit is cr.training.fit
    from chainrule.callbacks import JSONLogger

    assert JSONLogger is JSONLinesLogger


def test_hooks_run_in_order():
    rec = Recorder()
    _fit(callbacks=[rec], epochs=2)
    assert rec.calls == [
        "train_begin",
        "epoch_begin 0",
        "epoch_end 0",
        "epoch_begin 1",
        "epoch_end 1",
        "train_end",
    ]
    assert rec.batch_sizes == [10, 10, 10] * 2
    assert set(rec.logs[0]) == {"loss", "lr"}


def test_entries_added_by_a_callback_reach_the_history():
    history = _fit(callbacks=[Inject("custom", [1.0, 2.0, 3.0])], epochs=3)
    assert history["custom"] == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------------- early stopping
def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    # Scripted metric: best at epoch 2, then worse for `patience` = 2 epochs -> stop after 4.
    rec = Recorder()
    stop = EarlyStopping(monitor="score_loss", patience=2)
    history = _fit(callbacks=[Inject("score_loss", [5, 4, 3, 3.5, 4, 1, 1]), stop, rec], epochs=7)
    assert len(history) == 5 and stop.stopped_epoch == 4
    assert stop.best == 3 and stop.best_epoch == 2
    final = rec.snapshots[-1]
    assert not same_weights(final, rec.snapshots[2])  # the weights moved on after epoch 2
    assert same_weights(stop.best_weights, rec.snapshots[2])


def test_restored_model_holds_the_best_epoch_weights():
    model = make_model()
    rec = Recorder()
    stop = EarlyStopping(monitor="m", patience=1)
    _fit(model, callbacks=[Inject("m", [3, 1, 2, 2, 2]), stop, rec], epochs=5)
    assert same_weights(model.state_dict(), rec.snapshots[1])
    assert not same_weights(model.state_dict(), rec.snapshots[-1])


def test_best_weights_are_restored_also_when_epochs_run_out():
    model = make_model()
    rec = Recorder()
    _fit(model, callbacks=[Inject("m", [3, 1, 2]), EarlyStopping("m", patience=5), rec], epochs=3)
    assert same_weights(model.state_dict(), rec.snapshots[1])


def test_without_restoring_the_final_weights_stay():
    model = make_model()
    rec = Recorder()
    stop = EarlyStopping("m", patience=1, restore_best_weights=False)
    _fit(model, callbacks=[Inject("m", [3, 1, 2, 2]), stop, rec], epochs=4)
    assert same_weights(model.state_dict(), rec.snapshots[-1]) and stop.stopped_epoch == 2


def test_min_delta_and_max_mode():
    stop = EarlyStopping("val_accuracy", patience=1, min_delta=0.05)
    assert stop.mode == "max"
    history = _fit(callbacks=[Inject("val_accuracy", [0.5, 0.52, 0.9, 0.9]), stop], epochs=4)
    # 0.52 is not 0.05 better than 0.5: stop after epoch 1.
    assert len(history) == 2 and stop.best == 0.5


def test_early_stopping_is_reusable():
    stop = EarlyStopping("m", patience=1)
    assert len(_fit(callbacks=[Inject("m", [1, 2, 3]), stop], epochs=3)) == 2
    assert len(_fit(callbacks=[Inject("m", [3, 2, 1]), stop], epochs=3)) == 3  # reset
    assert stop.best == 1 and stop.stopped_epoch is None


def test_early_stopping_on_real_validation_loss():
    # Train on noise-free data, validate on flipped labels: val_loss rises from the start.
    X, y = make_data(40)
    model = make_model()
    stop = EarlyStopping(patience=3)
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    history = cr.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        opt,
        X,
        y,
        epochs=50,
        batch_size=8,
        validation_data=(X, 1 - y),
        callbacks=[stop],
        progress=False,
    )
    assert len(history) < 50
    assert stop.best == min(history["val_loss"])
    with cr.no_grad():
        model.eval()
        restored = cr.nn.CrossEntropyLoss()(model(cr.Tensor(X)), 1 - y).item()
    assert restored == pytest.approx(stop.best, rel=1e-6)


def test_missing_monitor_warns_once():
    with pytest.warns(UserWarning, match="val_loss.*not logged"):
        history = _fit(callbacks=[EarlyStopping(patience=0)], epochs=3)
    assert len(history) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"patience": -1}, "patience"), ({"mode": "up"}, "mode"), ({"monitor": ""}, "monitor")],
)
def test_early_stopping_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)


# ---------------------------------------------------------------------- learning rates
def test_scheduler_argument_steps_the_schedule_each_epoch():
    model = make_model()
    opt = cr.optim.SGD(model.parameters(), lr=0.4)
    history = _fit(model, opt=opt, scheduler=StepLR(opt, step_size=2, gamma=0.5), epochs=5)
    assert history["lr"] == [0.4, 0.4, 0.2, 0.2, 0.1]


def test_reduce_on_plateau_gets_the_monitored_value():
    model = make_model()
    opt = cr.optim.SGD(model.parameters(), lr=1.0)
    plateau = ReduceLROnPlateau(opt, factor=0.5, patience=0)
    values = [1.0, 2.0, 2.0, 0.5, 0.7]
    history = _fit(
        model,
        opt=opt,
        epochs=5,
        callbacks=[Inject("val_loss", values), LearningRateScheduler(plateau)],
    )
    # No improvement after epochs 1 and 2 (halve each time), improvement at 3, none at 4.
    assert history["lr"] == [1.0, 1.0, 0.5, 0.25, 0.25]
    assert opt.param_groups[0]["lr"] == 0.125


def test_keras_style_schedule_function():
    history = _fit(callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))], epochs=3)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    with pytest.raises(ValueError, match="learning rate -1"):
        _fit(callbacks=[LearningRateScheduler(lambda epoch, lr: -1.0)])


# ---------------------------------------------------------------------- loggers
def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    history = _fit(callbacks=[CSVLogger(path)], epochs=3, validation_data=make_data(9))
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert [float(r["val_loss"]) for r in rows] == history["val_loss"]
    assert [float(r["loss"]) for r in rows] == history["loss"]  # exact: repr of floats


def test_json_lines_logger(tmp_path):
    path = tmp_path / "log.jsonl"
    history = _fit(callbacks=[JSONLinesLogger(path)], epochs=2)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["epoch"] for r in records] == [0, 1]
    assert [r["loss"] for r in records] == history["loss"]


def test_csv_logger_append(tmp_path):
    path = tmp_path / "log.csv"
    _fit(callbacks=[CSVLogger(path)], epochs=2)
    _fit(callbacks=[CSVLogger(path, append=True)], epochs=2)
    rows = list(csv.reader(path.open()))
    assert rows[0][0] == "epoch" and [r[0] for r in rows[1:]] == ["0", "1", "0", "1"]


# ---------------------------------------------------------------------- progress display
class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_no_progress_output_when_stderr_is_not_a_terminal(capsys):
    _fit(progress=True, epochs=2)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_bar_in_a_terminal(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _fit(progress=True, epochs=2, validation_data=make_data(9))
    text = terminal.getvalue()
    assert "epoch 2/2" in text and "loss" in text and "val_loss" in text


def test_progress_false_is_quiet_even_in_a_terminal(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _fit(progress=False, epochs=2)
    assert terminal.getvalue() == ""


def test_builtin_progress_line_without_tqdm():
    stream = io.StringIO()
    bar = ProgressBar(stream=stream, use_tqdm=False, min_interval=0.0)
    _fit(callbacks=[bar], epochs=2, validation_data=make_data(9))
    text = stream.getvalue()
    assert "epoch 2/2" in text and "step 3/3" in text and "ETA" in text
    assert "val_loss" in text and text.endswith("\n")


def test_rng_states_survive_a_checkpoint_without_dropout(tmp_path):
    # ModelCheckpoint's basic contract, seen from the callback side: one file, reloadable.
    path = tmp_path / "c.crz"
    cp = ModelCheckpoint(path, every=2)
    _fit(callbacks=[cp], epochs=3)
    state = cr.training.load_checkpoint(path)
    assert state["epoch"] == 3 and cp.last_path == str(path)
    assert np.isfinite(state["history"]["history"]["loss"]).all()
