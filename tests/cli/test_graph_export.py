"""`chainrule graph`, `lecture` and `export --onnx`."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.graph import build, parse_values

from .conftest import make_classification, make_regression


def test_graph_default_is_the_lectures_simple_example(cli):
    code, out, err = cli("graph")
    assert code == 0, err
    assert out.startswith("digraph G {") and out.rstrip().endswith("}")
    # f = 1 / (w0 x0 + w1) at x0 = 3, w0 = -2, w1 = 4: f = -1/2, df/dy2 = -1/y2^2 = -1/4.
    assert "value -0.5" in out
    assert "grad -0.25" in out
    for name in ("x0", "w0", "w1", "y1", "y2"):
        assert name in out


def test_graph_expression_gradients_match_the_chain_rule(tmp_path, cli):
    out_file = tmp_path / "chain.dot"
    code, out, err = cli(
        "graph", "E = 0.5 * (sigmoid(w * x) - y) ** 2", "w=0.5", "x=2", "y=1", "--out", out_file
    )
    assert code == 0, err
    s = 1 / (1 + math.exp(-1.0))  # σ(w x) with w x = 1
    dE_dw = (s - 1) * s * (1 - s) * 2  # (ŷ − y) σ′(a) x
    lines = dict(line.split(" = ") for line in out.splitlines() if " = " in line)
    assert float(lines["E"]) == pytest.approx(0.5 * (s - 1) ** 2, rel=1e-5)
    assert float(lines["dE/dw"]) == pytest.approx(dE_dw, rel=1e-5)
    assert float(lines["dE/dy"]) == pytest.approx(1 - s, rel=1e-5)
    text = out_file.read_text()
    assert text.startswith("digraph") and "op sigmoid" in text


def test_graph_builder_names_intermediate_results():
    out, leaves = build("f = 1 / (w0 * x0 + w1)", parse_values(["x0=3", "w0=-2", "w1=4"]))
    assert out.name == "f" and out.item() == pytest.approx(-0.5)
    assert leaves["w0"].grad == pytest.approx(-0.25 * 3)
    assert leaves["x0"].grad == pytest.approx(-0.25 * -2)
    # The lecture's names for the intermediate results: y1 = w0 x0, y2 = y1 + w1.
    dot = cr.viz.draw_graph(out)
    assert "y1|op *|value -6" in dot and "y2|op +|value -2" in dot


def test_lecture_command_prints_the_examples(tmp_path, cli):
    code, out, err = cli("lecture", "--out", tmp_path)
    assert code == 0, err
    assert "simple example" in out.lower()
    assert (tmp_path / "simple_example.dot").exists()


# ---------------------------------------------------------------------------- ONNX
def _session(path):
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_features_only_export_of_a_classifier_predicts_like_chainrule(tmp_path, trained_clf, cli):
    pytest.importorskip("onnx")
    target = tmp_path / "m.onnx"
    code, out, err = cli("export", trained_clf, "--onnx", target, "--features-only")
    assert code == 0, err
    assert "checked with onnxruntime" in out
    model = cr.load(trained_clf)
    frame = make_classification(n=50, seed=9)
    X = model.transform(frame)
    proba, index = _session(target).run(["probabilities", "label_index"], {"input": X})
    np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=1e-5, atol=1e-6)
    assert (model.classes_[index] == model.predict(frame)).all()


def test_features_only_export_of_a_regressor_is_in_target_units(tmp_path, trained_reg, cli):
    pytest.importorskip("onnx")
    target = tmp_path / "m.onnx"
    code, _, err = cli("export", trained_reg, "--onnx", target, "--features-only")
    assert code == 0, err
    model = cr.load(trained_reg)
    frame = make_regression(n=40, seed=4)
    (pred,) = _session(target).run(["prediction"], {"input": model.transform(frame)})
    np.testing.assert_allclose(pred.ravel(), model.predict(frame), rtol=1e-5)


def test_onnx_export_of_every_layer_type(tmp_path, cli):
    pytest.importorskip("onnx")
    nn = cr.nn
    net = nn.Sequential(
        nn.Dense(5, 8),
        nn.BatchNorm(8),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.3),
        nn.Sequential(nn.Dense(8, 6, bias=False), nn.Tanh()),
        nn.Dense(6, 4),
        nn.Sigmoid(),
        nn.Identity(),
        nn.Dense(4, 3),
        nn.ReLU(),
        nn.Softmax(),
    )
    rng = np.random.default_rng(0)
    net(cr.Tensor(rng.normal(size=(32, 5)).astype(np.float32)))  # move the running stats
    net.eval()
    path = tmp_path / "net.chainrule"
    cr.save(net, path)
    code, _, err = cli("export", path, "--onnx", tmp_path / "net.onnx")
    assert code == 0, err
    X = rng.normal(size=(20, 5)).astype(np.float32)
    (got,) = _session(tmp_path / "net.onnx").run(["output"], {"input": X})
    np.testing.assert_allclose(got, net(cr.Tensor(X)).data, rtol=1e-5, atol=1e-6)


def test_export_without_onnx_names_the_package(tmp_path, trained_clf, cli, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    monkeypatch.delitem(__import__("sys").modules, "onnx", raising=False)
    target = tmp_path / "m.onnx"
    code, _, err = cli("export", trained_clf, "--onnx", target)
    assert code == 1
    assert "'onnx'" in err and "chainrule[onnx]" in err
    assert not target.exists()
