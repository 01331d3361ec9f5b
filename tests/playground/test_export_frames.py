"""Exports (model file, Python code) and the frames sent to the page."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.playground.config import Config
from chainrule.playground.datasets import features
from chainrule.playground.export import model_file, python_code
from chainrule.playground.frames import GRID, data_message, encode_map, frame_message
from chainrule.playground.session import Session


def test_model_file_loads_with_cr_load_and_predicts_the_same(tmp_path: Path) -> None:
    s = Session(Config(dataset="spiral", features=("x1", "x2", "sinx1"), hidden=(5, 3)))
    s.run_epochs(2)
    path = tmp_path / "playground.chainrule"
    path.write_bytes(model_file(s))
    model = cr.load(path)
    x = features(s.test_points, s.config.features)
    model.eval()
    s.model.eval()
    np.testing.assert_allclose(model(cr.Tensor(x)).data, s.model(cr.Tensor(x)).data, rtol=1e-6)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"optimizer": "adam", "regularization": "l1", "reg_rate": 0.001, "init": "he"},
        {"optimizer": "nesterov", "batch_norm": True, "dropout": 0.1, "regime": "batch"},
        {"optimizer": "rmsprop", "dataset": "plane", "hidden": (), "regime": "stochastic"},
        {"optimizer": "momentum", "init": "zeros", "activation": "relu"},
    ],
)
def test_python_code_runs_and_rebuilds_the_network(
    settings: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    c = Config().update(settings)
    code = python_code(c, epochs=1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "playground.py", "exec"), namespace)
    assert "test loss after 1 epochs" in capsys.readouterr().out
    rebuilt = cr.load(tmp_path / "playground.chainrule")
    reference = Session(c).model.state_dict()
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in reference.items()
    }
    assert os.path.exists("playground.chainrule")


def test_encode_map_scales_minus_one_to_one_into_bytes() -> None:
    raw = base64.b64decode(encode_map(np.array([-1.0, 0.0, 1.0, 5.0, np.nan])))
    assert list(raw) == [0, 128, 255, 255, 128]


def test_frame_is_strict_json_with_a_map_per_neuron() -> None:
    s = Session(Config(hidden=(3, 2)))
    s.run_epochs(2)
    m = frame_message(s, history_from=1, point=(1.0, 1.0), label=1.0)
    text = json.dumps(m, allow_nan=False)
    assert m["epoch"] == 2 and len(m["history"]["train"]) == 2
    assert [len(layer) for layer in m["neurons"]] == [3, 2]
    assert len(base64.b64decode(m["boundary"])) == GRID * GRID
    assert len(base64.b64decode(m["neurons"][1][0])) == (GRID // 2) ** 2
    assert m["test_loss"] == pytest.approx(s.losses()[1])
    assert len(text) < 20_000
    d = data_message(s)
    assert len(d["train"]) == 250 and len(d["test"]) == 250


def test_a_diverged_frame_is_still_strict_json() -> None:
    s = Session(Config(dataset="plane", activation="relu", learning_rate=10, hidden=(8, 8)))
    s.run_epochs(50)
    assert s.diverged
    m = frame_message(s, history_from=0, point=(1.0, 1.0), label=0.5)
    json.dumps(m, allow_nan=False)
    assert m["diverged"] == s.diverged
