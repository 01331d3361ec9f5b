"""Draw the computational graph behind a tensor, as the lecture does.

Each value is a node showing its name (``Tensor(..., name="w0")`` or ``t.name = "y1"``), the
operation that produced it, its value and its gradient; each edge runs from an input to the
operation's output and is labelled with the local derivative ∂out/∂in. Backpropagation then
reads off the graph: the gradient of a node is the sum over its outgoing edges of
(the gradient at the edge's end) × (the edge's local derivative).

Draw before ``backward()`` to see values only, or after it to see gradients too. A plain
``backward()`` releases the graph to free memory, but small nodes keep a record of their inputs
and local derivatives (`chainrule.autograd.released`), so graphs of lecture size still draw; a
larger released graph raises a `RuntimeError` saying so, rather than showing a misleading node.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.autograd.released import Released
from chainrule.autograd.tensor import Array, Tensor
from chainrule.fast.flat import buffers_held

__all__ = ["MAX_NODES", "DotGraph", "GraphEdge", "GraphNode", "GraphvizNotFoundError", "draw_graph"]

MAX_NODES = 50  # larger graphs are summarized: a drawing of hundreds of nodes explains nothing
_FORMATS = ("svg", "png", "pdf")
_ENGINES = ("auto", "builtin", "graphviz")


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz program ``dot`` was asked for (``engine="graphviz"``) but is not installed."""


@dataclass(frozen=True)
class GraphNode:
    """One box: its DOT id, its text lines (name, op, value, grad) and whether it is a constant."""

    key: str
    fields: tuple[str, ...]
    constant: bool = False
    kind: str = "op"  # "op" (computed), "leaf" (takes a gradient) or "const"


@dataclass(frozen=True)
class GraphEdge:
    """An arrow from input `src` to output `dst`, labelled with the local derivative."""

    src: str
    dst: str
    label: str


class DotGraph(str):
    """Graphviz DOT text (a ``str``) that draws itself, with or without Graphviz.

    ``nodes`` and ``edges`` hold the same graph as data, for the built-in renderer.
    """

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    rankdir: str

    def __new__(
        cls,
        source: str,
        nodes: tuple[GraphNode, ...] = (),
        edges: tuple[GraphEdge, ...] = (),
        rankdir: str = "LR",
    ) -> DotGraph:
        self = super().__new__(cls, source)
        self.nodes, self.edges, self.rankdir = tuple(nodes), tuple(edges), rankdir
        return self

    @property
    def source(self) -> str:
        """The DOT text as a plain string."""
        return str(self)

    def render(
        self, path: str | Path, format: str | None = None, *, engine: str = "auto", dpi: int = 144
    ) -> Path:
        """Write the graph to `path` and return the path.

        The format comes from `format` or the file suffix (default svg): ``.dot``/``.gv`` writes
        the DOT text; ``.svg``, ``.png`` and ``.pdf`` draw the picture. `engine` ``"auto"`` uses
        Graphviz's ``dot`` program when it is on the PATH and the built-in renderer otherwise
        (SVG written directly; PNG and PDF through matplotlib, the ``[plot]`` extra);
        ``"builtin"`` always uses the built-in one (the same picture on every machine);
        ``"graphviz"`` needs ``dot`` and raises `GraphvizNotFoundError` without it.
        """
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".") or "svg").lower()
        if fmt in ("dot", "gv"):
            path.write_text(self.source, encoding="utf-8")
            return path
        if fmt not in _FORMATS:
            raise ValueError(
                f"cannot render to {fmt!r}; choose one of dot, gv, {', '.join(_FORMATS)}"
            )
        if engine not in _ENGINES:
            raise ValueError(f"engine must be one of {', '.join(_ENGINES)}, got {engine!r}")
        if not path.suffix:
            path = path.with_suffix(f".{fmt}")
        exe = shutil.which("dot") if engine != "builtin" else None
        if exe is not None:
            _run_graphviz(exe, self.source, fmt, path)
        elif engine == "graphviz":
            raise GraphvizNotFoundError(
                "engine='graphviz' needs the Graphviz program 'dot', which is not on the PATH; "
                "install Graphviz or use the built-in renderer (engine='auto' or 'builtin')"
            )
        elif fmt == "svg":
            path.write_text(self.to_svg(), encoding="utf-8")
        else:
            from chainrule.viz.mpl import save

            save(self._layout(), path, fmt, dpi)
        return path

    def to_svg(self) -> str:
        """The picture as SVG text, drawn by the built-in renderer."""
        from chainrule.viz.svg import to_svg

        return to_svg(self._layout())

    def _layout(self) -> Any:
        from chainrule.viz.layout import layout

        if not self.nodes and self.strip():
            raise ValueError(
                "this DOT text has no graph data to draw; render it with engine='graphviz'"
            )
        return layout(self.nodes, self.edges, self.rankdir)

    # Jupyter and IPython show the object as a picture rather than as DOT text.
    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_png_(self) -> bytes | None:
        try:
            from chainrule.viz.mpl import png_bytes
        except ImportError:  # no matplotlib: the SVG is shown instead
            return None
        return png_bytes(self._layout())


def _run_graphviz(exe: str, source: str, fmt: str, path: Path) -> None:
    done = subprocess.run(
        [exe, f"-T{fmt}", "-o", str(path)],
        input=source.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz 'dot' failed (exit {done.returncode}): {message}")


def draw_graph(tensor: Tensor, *, max_nodes: int = MAX_NODES, rankdir: str = "LR") -> DotGraph:
    """The computational graph that produced `tensor`, as a picture and as Graphviz DOT text.

    Parameters
    ----------
    tensor : Tensor
        The output whose graph is drawn (e.g. the error E).
    max_nodes : int
        Graphs with more nodes are summarized (node count, operations used) instead of drawn.
    rankdir : {"LR", "TB", "RL", "BT"}
        Direction of the drawing; left to right, as in the lecture, by default.

    Returns
    -------
    DotGraph
        The DOT text (a ``str``); ``.render("graph.svg")`` (or .png, .pdf, .dot) draws it, and a
        notebook shows it as a picture.

    Raises
    ------
    RuntimeError
        If part of a large graph was released by ``backward()``; draw it before, or call
        ``backward(retain_graph=True)``.
    """
    if not isinstance(tensor, Tensor):
        raise ValueError(f"draw_graph needs a Tensor, got {type(tensor).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be one of LR, TB, RL, BT, got {rankdir!r}")
    tensors = _collect(tensor)
    if len(tensors) > max_nodes:
        nodes, edges = _summary(tensor, tensors)
    else:
        ids = {id(t): f"n{k}" for k, t in enumerate(tensors)}
        nodes = [_node(ids[id(t)], t) for t in tensors]
        edges = [
            GraphEdge(ids[id(parent)], ids[id(t)], label)
            for t in tensors
            for parent, label in _edges(t)
        ]
    lines = ["digraph G {", f"  rankdir={rankdir};", "  node [shape=record, fontsize=11];"]
    lines.append("  edge [fontsize=10];")
    for n in nodes:
        style = ", style=dashed" if n.constant else ""
        lines.append(f'  {n.key} [label="{_record(n.fields, rankdir)}"{style}];')
    for e in edges:
        label = f' [label="{_escape(e.label)}"]' if e.label or e.src != "summary" else ""
        lines.append(f"  {e.src} -> {e.dst}{label};")
    lines.append("}")
    return DotGraph("\n".join(lines) + "\n", tuple(nodes), tuple(edges), rankdir)


def _inputs(node: Tensor) -> tuple[Tensor, ...]:
    """The inputs of `node`, also after a plain backward() released it (if it kept a record)."""
    fn = node._backward
    if type(fn) is Released:
        if fn.parents is None:
            raise RuntimeError(
                f"the graph behind this {node._op!r} result was released by backward() "
                "(only small graphs keep a record for drawing); draw it before backward(), "
                "or call backward(retain_graph=True)"
            )
        return fn.parents
    return node._parents


def _collect(root: Tensor) -> list[Tensor]:
    """Every tensor in the graph, inputs before outputs (iterative: deep graphs are fine)."""
    order: list[Tensor] = []
    seen: set[int] = {id(root)}
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        stack.append((node, True))
        for parent in reversed(_inputs(node)):  # reversed: the first input is drawn first
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, False))
    return order


def _fmt(x: Array | None) -> str:
    """A value for a label: the number for one element, a short list or a summary otherwise."""
    if x is None:
        return "none"
    x = np.asarray(x)
    if x.size == 1:
        return f"{x.item():.4g}"
    if x.ndim == 1 and x.size <= 4:
        return "[" + ", ".join(f"{v:.4g}" for v in x.tolist()) + "]"
    shape = "×".join(map(str, x.shape))
    if x.size == 0:
        return f"empty {shape}"
    return f"{shape} in [{x.min():.3g}, {x.max():.3g}]"


def _node(key: str, t: Tensor) -> GraphNode:
    title = t.name or ("" if t._op else "const" if not t.requires_grad else "input")
    fields = [title] if title else []
    if t._op:
        fields.append(f"op {t._op}")
    fields.append(f"value {_fmt(t.data)}")
    if t.requires_grad:
        fields.append(f"grad {_fmt(t.grad)}")
    kind = "op" if t._op else "leaf" if t.requires_grad else "const"
    return GraphNode(key, tuple(fields), not t.requires_grad, kind)  # constants: no gradient


def _edges(t: Tensor) -> list[tuple[Tensor, str]]:
    """(input, local-derivative label) for each input of `t`."""
    parents = _inputs(t)
    if not parents:
        return []
    if t.data.size != 1:  # the Jacobian is a matrix: show the shapes it connects
        shape = "×".join(map(str, t.shape)) or "1"
        return [(p, f"{'×'.join(map(str, p.shape)) or '1'} → {shape}") for p in parents]
    fn = t._backward
    if type(fn) is Released:  # released by a plain backward(): the record kept the closure
        fn = fn.backward
    # For a one-element output, backward(1) returns exactly ∂out/∂in for each input. Some
    # closures write ∂E/∂W straight into a parameter's gradient buffer when it is free;
    # holding the buffers keeps drawing from touching them.
    with buffers_held(parents), np.errstate(all="ignore"):
        local = fn(np.ones_like(t.data))  # type: ignore[misc]
    edges = []
    for parent, d in zip(parents, local, strict=True):
        if d is None:
            edges.append((parent, ""))
        elif t.name and parent.name:
            edges.append((parent, f"∂{t.name}/∂{parent.name} = {_fmt(d)}"))
        else:
            edges.append((parent, _fmt(d)))
    return edges


def _summary(root: Tensor, tensors: list[Tensor]) -> tuple[list[GraphNode], list[GraphEdge]]:
    ops = Counter(t._op for t in tensors if t._op)
    leaves = sum(1 for t in tensors if not t._op)
    shown = ", ".join(f"{op} ×{n}" for op, n in ops.most_common(8))
    more = f", {len(ops) - 8} more" if len(ops) > 8 else ""
    text = (f"{len(tensors)} nodes, {leaves} leaves (not drawn)", f"ops: {shown}{more}")
    nodes = [GraphNode("summary", text, True, "const"), _node("root", root)]
    return nodes, [GraphEdge("summary", "root", "")]


def _record(fields: tuple[str, ...], rankdir: str) -> str:
    body = "|".join(_escape(f) for f in fields)
    # A record's fields stack across the rank direction; braces turn them to stack vertically.
    return body if rankdir in ("LR", "RL") else "{" + body + "}"


def _escape(text: str) -> str:
    for ch in '\\"{}|<>':
        text = text.replace(ch, "\\" + ch)
    return text
