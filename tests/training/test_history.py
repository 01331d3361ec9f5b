"""`History` and the metrics `cr.fit` logs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.training import History
from chainrule.training.metrics import accuracy, mae, mse, resolve_metrics


def test_history_records_per_epoch_lists():
    h = History()
    h.append(0, {"loss": np.float32(0.5), "note": "text"})
    h.append(1, {"loss": 0.25, "val_loss": 0.3})
    h.append(2, {"val_loss": 0.2})
    assert h["loss"] == [0.5, 0.25, h["loss"][2]] and math.isnan(h["loss"][2])
    assert math.isnan(h["val_loss"][0]) and h["val_loss"][1:] == [0.3, 0.2]
    assert "note" not in h and len(h) == 3 and h.epoch == [0, 1, 2]
    assert h.history is h.history and set(h.keys()) == {"loss", "val_loss"}
    assert "3 epochs" in repr(h)
    with pytest.raises(KeyError, match="recorded: loss, val_loss"):
        h["accuracy"]


def test_history_state_round_trip():
    h = History({"loss": [1.0, 0.5]})
    copy = History()
    copy.load_state_dict(h.state_dict())
    assert copy.history == h.history and copy.epoch == [0, 1]
    with pytest.raises(ValueError, match="one entry per epoch"):
        History({"loss": [1.0], "val_loss": [1.0, 2.0]})


def test_accuracy_for_multi_class_binary_and_one_hot():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(np.array([0, 1, 1]), logits) == pytest.approx(2 / 3)
    assert accuracy(np.eye(2)[[0, 1, 0]], logits) == 1.0
    single = np.array([[0.3], [-0.2], [2.0]])
    assert accuracy(np.array([1, 0, 1]), single) == 1.0  # logits: threshold 0
    assert accuracy(np.array([[1], [0], [1]]), single, threshold=0.5) == pytest.approx(2 / 3)


def test_regression_metrics():
    y, p = np.array([1.0, 2.0, 3.0]), np.array([[1.5], [2.0], [1.0]])
    assert mse(y, p) == pytest.approx((0.25 + 0 + 4) / 3)
    assert mae(y, p) == pytest.approx((0.5 + 0 + 2) / 3)


def test_accuracy_threshold_follows_the_loss():
    p = np.array([[0.2], [0.7]])
    t = np.array([1, 1])
    logits_loss = resolve_metrics(["accuracy"], cr.nn.BinaryCrossEntropy())["accuracy"]
    prob_loss = resolve_metrics(["accuracy"], cr.nn.MSELoss())["accuracy"]
    assert logits_loss(t, p) == 1.0 and prob_loss(t, p) == 0.5
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        resolve_metrics(["f2"], None)


def test_history_shows_itself_as_a_table_in_notebooks():
    h = History({"loss": [0.9, 0.5], "val_loss": [1.0, math.nan]})
    html = h._repr_html_()
    assert "<caption>History: 2 epochs</caption>" in html
    assert "<th>epoch</th><th>loss</th><th>val_loss</th>" in html
    rows = html.split("<tbody>")[1].split("</tr>")
    assert ">1<" in rows[0] and ">0.9<" in rows[0] and ">1<" in rows[0]
    assert (
        ">2<" in rows[1] and ">0.5<" in rows[1] and "></td></tr>" in rows[1] + "</tr>"
    )  # NaN: empty
    long = History({"loss": [float(i) for i in range(30)]})._repr_html_()
    assert long.count("<tr>") == 1 + 5 + 1 + 10 and "…" in long  # header, head, gap, tail
