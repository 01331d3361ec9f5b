"""`chainrule graph --out` and `chainrule lecture` draw pictures without the Graphviz program."""

from __future__ import annotations

import struct
from xml.etree import ElementTree

import pytest

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def no_graphviz(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no `dot` anywhere


@pytest.mark.parametrize("suffix", ["svg", "png", "dot"])
def test_graph_out_works_without_graphviz(tmp_path, cli, no_graphviz, suffix):
    if suffix == "png":
        pytest.importorskip("matplotlib")
    target = tmp_path / f"simple.{suffix}"
    code, out, err = cli("graph", "--out", target)
    assert code == 0, err
    assert f"graph written to {target}" in out and "df/dw0 = -0.75" in out
    data = target.read_bytes()
    if suffix == "svg":
        root = ElementTree.fromstring(data)
        texts = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
        assert {"x0", "w0", "w1", "f", "grad -0.25", "∂f/∂y2 = -0.25"} <= texts
    elif suffix == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert 600 < width < 3000 and 200 < height < 1500
    else:
        assert data.decode("utf-8").startswith("digraph G {")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file


def test_lecture_writes_svg_and_png_without_graphviz(tmp_path, cli, no_graphviz):
    pytest.importorskip("matplotlib")
    code, out, err = cli("lecture", "--out", tmp_path)
    assert code == 0, err
    assert "simple_example.png" in out
    for suffix in ("dot", "svg", "png"):
        assert (tmp_path / f"simple_example.{suffix}").stat().st_size > 100
