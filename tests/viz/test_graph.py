"""`cr.viz.draw_graph`: the DOT text of a graph, and rendering it with or without Graphviz."""

from __future__ import annotations

import re
import shutil
import struct
import sys
from xml.etree import ElementTree

import numpy as np
import pytest

import chainrule as cr
from chainrule import lecture
from chainrule.viz import DotGraph, GraphvizNotFoundError, draw_graph


def simple_graph() -> cr.Tensor:
    ex = lecture.simple_example().backward()  # keeps the graph
    return ex.tensors["f"]


def labels(dot: str) -> list[str]:
    return re.findall(r'label="((?:[^"\\]|\\.)*)"', dot)


def test_simple_example_shows_values_gradients_and_local_derivatives() -> None:
    dot = cr.viz.draw_graph(simple_graph())
    assert isinstance(dot, str) and dot.source == str(dot)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    nodes = labels(dot)
    for expected in (
        "x0|value 3|grad 0.5",
        "w0|value -2|grad -0.75",
        "w1|value 4|grad -0.25",
        "y1|op *|value -6|grad -0.25",
        "y2|op +|value -2|grad -0.25",
        "f|op /|value -0.5|grad 1",
    ):
        assert expected in nodes
    for local in ("∂y1/∂w0 = 3", "∂y1/∂x0 = -2", "∂y2/∂y1 = 1", "∂y2/∂w1 = 1", "∂f/∂y2 = -0.25"):
        assert local in nodes
    assert dot.count("->") == 6  # five edges between values, one from the constant 1


def test_before_backward_the_graph_shows_values_only() -> None:
    dot = draw_graph(lecture.simple_example().tensors["f"])
    assert "value -6" in dot and "grad none" in dot and "grad -0.25" not in dot


def test_a_plain_backward_keeps_what_drawing_needs() -> None:
    f = lecture.simple_example().tensors["f"]
    retained = draw_graph(f)  # before backward: the same nodes, no gradients yet
    f.backward()  # a plain backward: releases the closures
    assert f.parents == () and f._backward is not None
    after = draw_graph(f)
    nodes = labels(after)
    assert "w0|value -2|grad -0.75" in nodes and "∂y1/∂w0 = 3" in nodes
    assert "∂f/∂y2 = -0.25" in nodes and after.count("->") == retained.count("->") == 6


def test_a_plain_backward_keeps_local_derivatives_where_the_gradient_is_zero() -> None:
    w = cr.Tensor(2.0, requires_grad=True, name="w")
    x = cr.Tensor(-3.0, name="x")
    a = w * x
    a.name = "a"
    y = a.relu()  # a < 0: no gradient flows back to a, but ∂a/∂w = x still shows
    y.name = "y"
    y.backward()
    found = labels(draw_graph(y))
    assert "∂y/∂a = 0" in found and "∂a/∂w = -3" in found


def test_drawing_never_writes_into_gradient_buffers() -> None:
    layer = cr.nn.Dense(1, 1)
    model = cr.nn.Sequential(layer).flatten_parameters()  # parameters with gradient buffers
    out = model(np.full((1, 1), 3.0, dtype=np.float32)).sum()
    out.backward()
    model.zero_grad()
    for p in model.parameters():
        p._grad_buffer[...] = 7.0  # a sentinel: ∂out/∂W = 3 and ∂out/∂b = 1 would overwrite it
    buffers = [p._grad_buffer.copy() for p in model.parameters()]
    found = labels(draw_graph(out))
    assert any("op linear" in node or "op dense_chain" in node for node in found)
    assert all(p.grad is None and not p._grad_claimed for p in model.parameters())
    for p, before in zip(model.parameters(), buffers, strict=True):
        np.testing.assert_array_equal(p._grad_buffer, before)


def test_a_released_large_graph_is_an_error() -> None:
    x = cr.Tensor(np.ones(100), requires_grad=True)
    y = (x * x).exp().sum()
    y.backward()  # releases the graph; the 100-element nodes keep no record
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        draw_graph(y)
    assert x.grad is not None


def test_arrays_are_summarized() -> None:
    W = cr.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="W")
    z = cr.Tensor([1.0, 2.0, 3.0], name="z")
    E = (W @ z).sum()
    E.backward(retain_graph=True)
    dot = draw_graph(E, rankdir="TB")
    found = labels(dot)
    assert "{W|value 2×3 in [0, 5]|grad 2×3 in [1, 3]}" in found  # big arrays: shape and range
    assert "{z|value [1, 2, 3]}" in found  # short vectors are shown whole
    assert "{op @|value [8, 26]|grad [1, 1]}" in found
    assert "2×3 → 2" in found  # an array output's Jacobian: the shapes it connects
    assert "[1, 1]" in found  # a scalar output: ∂E/∂(Wz) = [1, 1] exactly


def test_large_graphs_are_summarized() -> None:
    x = cr.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):  # deep, so the walk must not recurse
        y = (y * 1.0001).tanh()
    dot = draw_graph(y)
    assert "n100" not in dot and dot.count("->") == 1
    # 10,000 constants 1.0001, 10,000 products, 10,000 tanh and x
    assert "30001 nodes, 10001 leaves" in dot and "* ×10000" in dot and "tanh ×10000" in dot
    assert draw_graph(y, max_nodes=30_001).count("->") == 30_000


def test_labels_are_escaped() -> None:
    t = cr.Tensor(1.0, requires_grad=True, name='a "quoted" {name}|<x>')
    dot = draw_graph(t * 2)
    assert r"a \"quoted\" \{name\}\|\<x\>" in dot


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="Tensor"):
        draw_graph(np.ones(2))
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(cr.Tensor(1.0), rankdir="UP")
    with pytest.raises(ValueError, match="jpeg"):
        DotGraph("digraph G {}").render("graph.jpeg")


# ---------------------------------------------------------------------- rendering
def test_render_dot_text_needs_no_graphviz(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    path = draw_graph(simple_graph()).render(tmp_path / "g.dot")
    assert path.read_text(encoding="utf-8").startswith("digraph")


def test_render_svg_without_graphviz(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` anywhere
    graph = draw_graph(simple_graph())
    path = graph.render(tmp_path / "g.svg")
    root = ElementTree.parse(path).getroot()  # valid XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for expected in ("w0", "value -2", "grad -0.75", "op /", "∂y1/∂w0 = 3", "∂f/∂y2 = -0.25"):
        assert expected in texts
    nodes = root.findall(".//{http://www.w3.org/2000/svg}g[@class='node']")
    assert len(nodes) == 7
    dashed = [
        g for g in nodes if g.find("{http://www.w3.org/2000/svg}rect").get("stroke-dasharray")
    ]
    assert len(dashed) == 1  # the constant 1
    assert graph._repr_svg_() == path.read_text(encoding="utf-8")
    assert graph.render(tmp_path / "again.svg").read_bytes() == path.read_bytes()  # deterministic


def test_render_png_and_pdf_without_graphviz(tmp_path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("PATH", str(tmp_path))
    graph = draw_graph(simple_graph())
    png = graph.render(tmp_path / "g.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert 600 < width < 3000 and 200 < height < 1500 and width > height
    assert graph.render(tmp_path / "again.png").read_bytes() == png  # no date inside
    assert graph._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    assert graph.render(tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"


def test_engine_graphviz_without_graphviz_names_the_missing_program(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotFoundError, match=r"Graphviz program 'dot'"):
        draw_graph(simple_graph()).render(tmp_path / "g.svg", engine="graphviz")
    assert not (tmp_path / "g.svg").exists()
    with pytest.raises(ValueError, match="engine"):
        draw_graph(simple_graph()).render(tmp_path / "g.svg", engine="neato")


def test_every_direction_and_the_summary_draw(tmp_path) -> None:
    x = cr.Tensor(1.0, requires_grad=True, name="x")
    y = x * x  # two edges between the same pair of boxes
    for rankdir in ("LR", "TB", "RL", "BT"):
        svg = draw_graph(y, rankdir=rankdir).to_svg()
        assert svg.count('class="edge"') == 2 and svg.count('class="node"') == 2
    z = y
    for _ in range(30):
        z = z.tanh()
    svg = draw_graph(z, max_nodes=10).to_svg()
    assert "32 nodes, 1 leaves (not drawn)" in svg and svg.count('class="node"') == 2


@pytest.mark.skipif(sys.platform == "win32", reason="the fake `dot` is a shell script")
def test_render_runs_dot_with_the_format_from_the_suffix(tmp_path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    # Records its arguments and copies the DOT text from stdin to the -o file.
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\ncat > "$3"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    dot = draw_graph(simple_graph())
    path = dot.render(tmp_path / "graph.png")
    assert path == tmp_path / "graph.png"
    assert path.read_text(encoding="utf-8") == dot.source
    assert (bin_dir / "args").read_text().split()[:2] == ["-Tpng", "-o"]
    assert dot.render(tmp_path / "noext").suffix == ".svg"
    assert dot.render(tmp_path / "builtin.svg", engine="builtin").read_text().startswith("<?xml")

    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 1\n")
    with pytest.raises(RuntimeError, match="syntax error in line 1"):
        dot.render(tmp_path / "graph.svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_with_real_graphviz(tmp_path) -> None:
    path = draw_graph(simple_graph()).render(tmp_path / "graph.svg")
    svg = path.read_text(encoding="utf-8")
    assert "<svg" in svg and "∂f/∂y2 = &#45;0.25" in svg
