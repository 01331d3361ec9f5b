"""Promise 5: a non-finite loss stops training with `cr.TrainingDiverged` (epoch, step and a
suggestion), the model keeps its last finite weights, and every layer reports it cleanly.

(`cr.fit` itself: tests/training/test_fit.py::test_huge_learning_rate_raises_training_diverged_
and_keeps_finite_weights and ::test_a_step_that_makes_weights_non_finite_is_undone.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3)).astype(np.float32)
Y_CLASS = (X[:, 0] > 0).astype(np.int64)
Y_REG = (X @ np.array([1.0, -2.0, 0.5]) * 100).astype(np.float32)


def _finite(model: cr.nn.Module) -> bool:
    return all(np.isfinite(p.data).all() for p in model.parameters())


def _check_message(exc: cr.TrainingDiverged, epochs: int) -> None:
    message = str(exc)
    assert isinstance(exc.epoch, int) and isinstance(exc.step, int)
    assert f"in epoch {exc.epoch} of {epochs}, step {exc.step} of" in message
    assert "keeps its last finite weights" in message
    assert re.search(r"Try a smaller learning rate \(lr is [0-9e+.]+; try [0-9e+.]+\)", message)


@pytest.mark.parametrize(
    ("make", "y"),
    [
        (lambda: cr.MLPRegressor(optimizer="sgd", learning_rate=10.0, batch_size=None), Y_REG),
        (lambda: cr.MLPClassifier(optimizer="sgd", learning_rate=1e30, batch_size=16), Y_CLASS),
        (lambda: cr.MLPClassifier(optimizer="momentum", learning_rate=1e8), Y_CLASS),
    ],
    ids=["regressor, batch GD", "classifier, minibatches", "classifier, momentum"],
)
def test_estimators_raise_training_diverged_and_keep_finite_weights(make, y):
    est = make().set_params(hidden_layer_sizes=(8,), epochs=50, random_state=0)
    with pytest.raises(cr.TrainingDiverged) as info:
        est.fit(X, y)
    _check_message(info.value, 50)
    assert _finite(est.model_)
    # Nothing is broken: the same estimator fits again with a sensible learning rate.
    est.set_params(learning_rate=1e-2, optimizer="adam", epochs=5).fit(X, y)
    assert _finite(est.model_) and np.isfinite(est.loss_curve_).all()


def test_partial_fit_divergence_keeps_the_weights_of_the_last_good_step():
    clf = cr.MLPClassifier(optimizer="sgd", learning_rate=1e30, hidden_layer_sizes=(8,))
    clf.set_params(random_state=0, batch_size=None)
    clf.partial_fit(X, Y_CLASS, classes=[0, 1])  # one good step...
    with pytest.raises(cr.TrainingDiverged):
        for _ in range(20):  # ...then a few more until the loss overflows
            clf.partial_fit(X, Y_CLASS)
    assert _finite(clf.model_)


def test_a_checkpoint_written_before_divergence_still_loads(tmp_path):
    y = Y_REG[:, None]
    cr.set_seed(0)
    model = cr.nn.Sequential(cr.nn.Dense(3, 1))
    opt = cr.optim.SGD(model.parameters(), lr=3.0)  # η > 2/λ_max: grows each epoch
    checkpoint = cr.ModelCheckpoint(tmp_path / "run.ckpt")
    with pytest.raises(cr.TrainingDiverged) as info:
        cr.fit(model, cr.nn.MSELoss(), opt, X, y, epochs=200, batch_size=None, seed=0,
               callbacks=[checkpoint], progress=False)  # fmt: skip
    assert info.value.epoch > 1
    from chainrule.training import load_checkpoint

    state = load_checkpoint(tmp_path / "run.ckpt")
    assert state["epoch"] == info.value.epoch - 1  # the last finished epoch, intact
    assert all(np.isfinite(a).all() for a in state["model"].values())
    assert _finite(model)


pd = pytest.importorskip("pandas")


def _csv(tmp_path):
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["label"] = np.where(Y_CLASS == 1, "up", "down")
    frame["price"] = Y_REG
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("target", ["label", "price"])
def test_the_command_line_reports_divergence_in_one_line(tmp_path, capsys, target):
    from chainrule.cli import main

    data = _csv(tmp_path)
    out = tmp_path / "m.chainrule"
    argv = [
        "train",
        str(data),
        "--target",
        target,
        "--drop",
        "price" if target == "label" else "label",
    ]
    argv += ["--optimizer", "sgd", "--lr", "1e30", "--epochs", "20", "--out", str(out), "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("chainrule train: error: training diverged")
    assert "epoch" in lines[0] and "(command line: lower --lr)" in lines[0]
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["d.csv"]


def test_divergence_in_a_real_process_exits_non_zero_without_traceback(tmp_path):
    data = _csv(tmp_path)
    cmd = [sys.executable, "-m", "chainrule", "train", str(data), "--target", "price"]
    cmd += ["--drop", "label", "--optimizer", "sgd", "--lr", "1e30", "--out", "m.chainrule"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120, env=env)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "training diverged" in done.stderr
    assert not (tmp_path / "m.chainrule").exists()
