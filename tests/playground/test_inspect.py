"""δ at a point, one weight's chain rule during a step, and one neuron's graph: numbers agree."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.playground.config import Config, PlaygroundError
from chainrule.playground.inspect import explain_step, neuron_graph, point_details
from chainrule.playground.session import Session


def _trained(**settings: object) -> Session:
    s = Session(Config(dataset="xor", **settings))  # type: ignore[arg-type]
    s.run_epochs(3)
    return s


def test_output_delta_is_sigmoid_minus_target() -> None:
    s = _trained()
    d = point_details(s, (1.0, -2.0), 1.0)
    a_out = d["a"][-1][0]
    assert d["delta"][-1][0] == pytest.approx(1 / (1 + np.exp(-a_out)) - 1.0, rel=1e-5)
    assert [len(row) for row in d["delta"]] == [4, 2, 1]


@pytest.mark.parametrize(("layer", "i", "j"), [(0, 1, 0), (1, 0, 3), (2, 0, 1)])
def test_explained_gradient_is_sum_of_delta_times_z(layer: int, i: int, j: int) -> None:
    s = _trained()
    m = explain_step(s, layer, i, j)
    assert m["sum_delta_z"] == pytest.approx(m["grad"], rel=1e-5, abs=1e-9)
    assert m["w_after"] == pytest.approx(m["w_before"] - 0.03 * m["grad"], rel=1e-5, abs=1e-8)
    if "recursion" in m:  # δᵢ⁽ᵏ⁾ = σ′(aᵢ) Σₘ wₘᵢ δₘ⁽ᵏ⁺¹⁾ for the first sample
        r = m["recursion"]
        rhs = r["sigma_prime"] * float(np.dot(r["w_next"], r["delta_next"]))
        assert rhs == pytest.approx(m["delta"][0], rel=1e-4, abs=1e-10)
    else:
        assert layer == len(s.layers) - 1
    assert s.steps == 3 * 25 + 1


def test_the_penalty_term_is_the_rest_of_the_gradient() -> None:
    s = _trained(regularization="l2", reg_rate=0.1)
    m = explain_step(s, 0, 0, 0)
    assert m["grad"] == pytest.approx(m["sum_delta_z"] + 0.1 * m["w_before"], rel=1e-5)


def test_bad_weight_is_refused() -> None:
    s = _trained()
    with pytest.raises(PlaygroundError, match="no weight"):
        explain_step(s, 1, 5, 0)
    with pytest.raises(PlaygroundError, match="layer must be from 0 to 2"):
        neuron_graph(s, 3, 0, (0, 0), 1.0)


def test_neuron_graph_gradients_follow_the_chain_rule() -> None:
    s = _trained()
    point, label = (1.5, 2.0), 1.0
    g = neuron_graph(s, 1, 0, point, label)
    nodes = {n["name"]: n for n in g["nodes"]}
    delta = point_details(s, point, label)["delta"][1][0]
    assert nodes["a"]["grad"] == pytest.approx(delta, rel=1e-4)  # ∂E/∂a is δ
    assert nodes["b1"]["grad"] == pytest.approx(delta, rel=1e-4)
    for j in (1, 2, 3, 4):
        w, z = nodes[f"w1{j}"], nodes[f"z{j}"]
        assert w["grad"] == pytest.approx(z["value"] * delta, rel=1e-4, abs=1e-12)
        assert z["grad"] == pytest.approx(w["value"] * delta, rel=1e-4, abs=1e-12)
    tanh_prime = {e["to"]: e["local"] for e in g["edges"] if e["from"] == "a"}["z"]
    assert tanh_prime == pytest.approx(1 - nodes["z"]["value"] ** 2, rel=1e-6)
    assert g["dot"].startswith("digraph") and "w11" in g["dot"]


def test_output_neuron_graph_ends_at_a() -> None:
    s = _trained()
    g = neuron_graph(s, 2, 0, (0.5, 0.5), 0.0)
    names = [n["name"] for n in g["nodes"]]
    assert "z" not in names and names[-1] == "a" and g["activation"] == "linear"
