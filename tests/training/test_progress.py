"""Progress reports: per-epoch lines, the bar's clean finish, the notebook front-end."""

from __future__ import annotations

import io
import sys
import types

import pytest
from trainkit import make_data, make_model

import chainrule as cr
from chainrule.callbacks import EarlyStopping, ProgressBar
from chainrule.training import Callback
from chainrule.training.progress import EpochLog, in_notebook, verbose_callback


class StopAfter(Callback):
    """Ends training after `n` epochs, as early stopping would."""

    def __init__(self, n: int) -> None:
        self.n = n

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch + 1 >= self.n:
            trainer.stop_training = True


def _fit(callbacks, epochs=5, progress=False, **kw):
    X, y = make_data(30)
    model = make_model()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    return cr.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        opt,
        X,
        y,
        epochs=epochs,
        batch_size=10,
        callbacks=list(callbacks),
        progress=progress,
        **kw,
    )


def _fake_jupyter(monkeypatch):
    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_epoch_log_prints_scikit_learn_style_lines():
    stream = io.StringIO()
    history = _fit([EpochLog(stream)], epochs=3, validation_data=make_data(9))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.startswith(f"Iteration {i + 1}, loss = {history['loss'][i]:.8f}")
        assert f"validation loss = {history['val_loss'][i]:.8f}" in line


def test_epoch_log_says_when_a_stopping_rule_ended_training():
    stream = io.StringIO()
    _fit([StopAfter(2), EpochLog(stream)], epochs=5)
    lines = stream.getvalue().splitlines()
    assert lines[-1] == "Stopped after iteration 2 of 5: the stopping rule was met."
    assert len(lines) == 3


@pytest.mark.parametrize("use_tqdm", [True, False])
def test_bar_finishes_full_when_training_stops_early(use_tqdm):
    pytest.importorskip("tqdm") if use_tqdm else None
    stream = io.StringIO()
    bar = ProgressBar(stream=stream, use_tqdm=use_tqdm, min_interval=0.0)
    seen = {}

    class Peek(Callback):
        runs_last = True

        def on_train_end(self, trainer):  # before the bar closes (it runs after)
            seen["tqdm"] = bar._bar

    _fit([StopAfter(2), bar, Peek()], epochs=10)
    text = stream.getvalue()
    assert "stopped early" in text and text.endswith("\n")
    if use_tqdm:
        final = text.rstrip("\n").split("\r")[-1]
        assert "100%" in final and "6/6" in final  # 2 epochs of 3 steps: a full bar
    else:
        assert "epoch 2/10" in text.split("\r")[-1]


def test_bar_of_a_full_run_is_unchanged():
    stream = io.StringIO()
    _fit([ProgressBar(stream=stream, use_tqdm=False, min_interval=0.0)], epochs=2)
    assert "stopped early" not in stream.getvalue()


def test_in_notebook_detects_an_ipython_kernel(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not in_notebook()
    _fake_jupyter(monkeypatch)
    assert in_notebook()


def test_verbose_callback_is_lines_off_a_terminal_and_a_bar_in_a_notebook(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: CI logs, pipes
    assert isinstance(verbose_callback(), EpochLog)
    _fake_jupyter(monkeypatch)
    assert isinstance(verbose_callback(), ProgressBar)


def test_fit_shows_its_bar_in_a_notebook(monkeypatch):
    pytest.importorskip("tqdm")
    _fake_jupyter(monkeypatch)
    shown = []
    monkeypatch.setattr(ProgressBar, "on_train_begin", lambda self, t: shown.append(self))
    monkeypatch.setattr(ProgressBar, "on_train_end", lambda self, t: None)
    monkeypatch.setattr(ProgressBar, "on_epoch_begin", lambda self, t, e: None)
    monkeypatch.setattr(ProgressBar, "on_batch_end", lambda self, t, s, logs: None)
    monkeypatch.setattr(ProgressBar, "on_epoch_end", lambda self, t, e, logs: None)
    monkeypatch.setattr(ProgressBar, "close", lambda self: None)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    _fit([EarlyStopping("loss", patience=1)], epochs=2, progress=True)
    assert len(shown) == 1
