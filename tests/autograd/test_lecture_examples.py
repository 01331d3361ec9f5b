"""The lecture's worked examples: its exact numbers, and its formulas at random points."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule import lecture


def sigma(a: float) -> float:
    return 1 / (1 + math.exp(-a))


def d_sigma(a: float) -> float:
    return sigma(a) * (1 - sigma(a))


def grads(ex: lecture.Example) -> dict[str, np.ndarray]:
    ex.backward()
    return {name: t.grad for name, t in ex.tensors.items()}


def test_example_1_chain_rule_gives_6() -> None:
    g = grads(lecture.example_1())
    assert g["x"] == 6.0 and g["a"] == 2.0


def test_example_2_sum_rule_gives_5() -> None:
    ex = lecture.example_2()
    assert ex.tensors["y"].item() == 5.0  # x = 1: y = 2·3 − 1
    assert grads(ex)["x"] == 5.0


def test_example_3_formulas() -> None:
    x, w1, w2 = 2.0, np.array([0.5, -1.0, 2.0]), np.array([1.5, 2.0, -0.5])
    g = grads(lecture.example_3(x, tuple(w1), tuple(w2)))
    assert g["x"] == pytest.approx(np.sum(w2 * w1))  # ∂y/∂x = Σⱼ wⱼ⁽²⁾ wⱼ⁽¹⁾
    np.testing.assert_allclose(g["w2"], w1 * x)  # ∂y/∂wᵢ⁽²⁾ = aᵢ
    np.testing.assert_allclose(g["w1"], w2 * x)  # ∂y/∂wᵢ⁽¹⁾ = wᵢ⁽²⁾ x
    with pytest.raises(ValueError, match="same length"):
        lecture.example_3(1.0, (1.0,), (1.0, 2.0))


def test_simple_example_numbers() -> None:
    ex = lecture.simple_example()  # x0 = 3, w0 = −2, w1 = 4
    t = ex.tensors
    assert (t["y1"].item(), t["y2"].item(), t["f"].item()) == (-6.0, -2.0, -0.5)
    g = grads(ex)
    assert g["y2"] == -0.25  # (1)(−1/y2²)
    assert g["y1"] == -0.25
    assert g["w0"] == -0.75  # (−0.25)(x0)
    assert g["x0"] == 0.5  # (−0.25)(w0)
    assert g["w1"] == -0.25  # (−0.25)(1)


def test_two_layer_sigmoid_chain_formula() -> None:
    z0, w1, w2, y = 1.0, 0.5, -1.5, 1.0
    ex = lecture.sigmoid_chain(z0, w1, w2, y, dtype=np.float64)
    a1 = w1 * z0
    a2 = w2 * sigma(a1)
    y_hat = sigma(a2)
    assert ex.tensors["y_hat"].item() == pytest.approx(y_hat, rel=1e-12)
    assert ex.tensors["E"].item() == pytest.approx(0.5 * (y_hat - y) ** 2, rel=1e-12)
    # ∂E/∂w₁ = (ŷ − y) σ′(a₂) w₂ σ′(a₁) z₀, with σ′ = σ(1 − σ)
    expected = (y_hat - y) * d_sigma(a2) * w2 * d_sigma(a1) * z0
    assert grads(ex)["w1"] == pytest.approx(expected, rel=1e-12)


VALUES = st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 0.1)


@given(x0=VALUES, w0=VALUES, w1=VALUES, z0=VALUES, y=VALUES)
def test_autograd_matches_the_lectures_formulas_anywhere(x0, w0, w1, z0, y) -> None:
    examples = [
        lecture.example_1(x0, dtype=np.float64),
        lecture.example_2(x0, dtype=np.float64),
        lecture.example_3(x0, (w0, w1), (z0, y), dtype=np.float64),
        lecture.sigmoid_chain(z0, w0, w1, y, dtype=np.float64),
    ]
    if abs(w0 * x0 + w1) > 0.1:  # away from the pole of 1/y2
        examples.append(lecture.simple_example(x0, w0, w1, dtype=np.float64))
    for ex in examples:
        g = grads(ex)
        for name, (formula, value) in ex.expected.items():
            np.testing.assert_allclose(g[name], value, rtol=1e-10, atol=1e-12, err_msg=formula)


def test_format_example_shows_values_gradients_and_formulas() -> None:
    text = lecture.format_example(lecture.simple_example())
    for piece in ("y1 = -6", "y2 = -2", "f = -0.5", "df/dw0 = -0.75", "df/dx0 = 0.5", "-1/y2^2"):
        assert piece in text


def test_main_prints_the_examples_and_writes_the_graph(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no Graphviz: the built-in renderer draws
    assert lecture.main(tmp_path / "out") == 0
    printed = capsys.readouterr().out
    assert printed.count("lecture:") >= 10 and "dy/dx = 6" in printed and "dy/dx = 5" in printed
    svg = (tmp_path / "out" / "simple_example.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "grad -0.75" in svg
    dot = (tmp_path / "out" / "simple_example.dot").read_text(encoding="utf-8")
    assert dot.startswith("digraph") and "value -0.5" in dot and "grad -0.75" in dot


def test_python_dash_m_chainrule_runs(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chainrule", "lecture"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "The simple example" in done.stdout and "df/dw1 = -0.25" in done.stdout
    assert (tmp_path / "out" / "simple_example.dot").is_file()
