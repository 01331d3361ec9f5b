"""Draw the computational graph behind a tensor, as the lecture does (Graphviz DOT).

Each value is a node showing its name (``Tensor(..., name="w0")`` or ``t.name = "y1"``), the
operation that produced it, its value and its gradient; each edge runs from an input to the
operation's output and is labelled with the local derivative ∂out/∂in. Backpropagation then
reads off the graph: the gradient of a node is the sum over its outgoing edges of
(the gradient at the edge's end) × (the edge's local derivative).

Draw before ``backward()`` to see values only, or after ``backward(retain_graph=True)`` to see
gradients too. A plain ``backward()`` releases the graph to free memory; drawing a released
graph raises a `RuntimeError` saying so, rather than showing a misleading single node.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np

from chainrule.autograd.tensor import _RELEASED, Array, Tensor

__all__ = ["MAX_NODES", "DotGraph", "GraphvizNotFoundError", "draw_graph"]

MAX_NODES = 50  # larger graphs are summarized: a drawing of hundreds of nodes explains nothing
_RENDER_FORMATS = ("svg", "png", "pdf")


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz program ``dot``, needed to render DOT text to an image, is not installed."""


class DotGraph(str):
    """Graphviz DOT text (a ``str``) that can render itself with the ``dot`` program."""

    __slots__ = ()

    @property
    def source(self) -> str:
        """The DOT text as a plain string."""
        return str(self)

    def render(self, path: str | Path, format: str | None = None) -> Path:
        """Write the graph to `path` and return the path.

        The format comes from `format` or the file suffix: ``.dot``/``.gv`` writes the DOT text
        itself; ``.svg``, ``.png`` and ``.pdf`` run Graphviz's ``dot`` program, and raise
        `GraphvizNotFoundError` when it is not on the PATH.
        """
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".") or "svg").lower()
        if fmt in ("dot", "gv"):
            path.write_text(self.source, encoding="utf-8")
            return path
        if fmt not in _RENDER_FORMATS:
            raise ValueError(
                f"cannot render to {fmt!r}; choose one of dot, gv, {', '.join(_RENDER_FORMATS)}"
            )
        exe = shutil.which("dot")
        if exe is None:
            raise GraphvizNotFoundError(
                f"rendering to {fmt} needs the Graphviz program 'dot', which is not on the PATH; "
                "install Graphviz (e.g. apt install graphviz, brew install graphviz) or save the "
                "DOT text with render('graph.dot')"
            )
        if not path.suffix:
            path = path.with_suffix(f".{fmt}")
        done = subprocess.run(
            [exe, f"-T{fmt}", "-o", str(path)],
            input=self.source.encode("utf-8"),
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"Graphviz 'dot' failed (exit {done.returncode}): {message}")
        return path


def draw_graph(tensor: Tensor, *, max_nodes: int = MAX_NODES, rankdir: str = "LR") -> DotGraph:
    """The computational graph that produced `tensor`, as Graphviz DOT text.

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
        The DOT text (a ``str``); ``.render("graph.svg")`` draws it with Graphviz.

    Raises
    ------
    RuntimeError
        If part of the graph was released by ``backward()``; draw it before, or call
        ``backward(retain_graph=True)``.
    """
    if not isinstance(tensor, Tensor):
        raise ValueError(f"draw_graph needs a Tensor, got {type(tensor).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be one of LR, TB, RL, BT, got {rankdir!r}")
    nodes = _collect(tensor)
    lines = ["digraph G {", f"  rankdir={rankdir};", "  node [shape=record, fontsize=11];"]
    lines.append("  edge [fontsize=10];")
    if len(nodes) > max_nodes:
        lines += _summary(tensor, nodes, rankdir)
    else:
        ids = {id(t): f"n{k}" for k, t in enumerate(nodes)}
        for t in nodes:
            lines.append(f'  {ids[id(t)]} [label="{_record(_fields(t), rankdir)}"{_style(t)}];')
        for t in nodes:
            for parent, label in _edges(t):
                lines.append(f'  {ids[id(parent)]} -> {ids[id(t)]} [label="{_escape(label)}"];')
    lines.append("}")
    return DotGraph("\n".join(lines) + "\n")


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
        if node._backward is _RELEASED:
            raise RuntimeError(
                f"the graph behind this {node._op!r} result was released by backward(); "
                "draw it before backward(), or call backward(retain_graph=True)"
            )
        stack.append((node, True))
        for parent in reversed(node._parents):  # reversed: the first input is drawn first
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


def _fields(t: Tensor) -> list[str]:
    title = t.name or ("" if t._op else "const" if not t.requires_grad else "input")
    fields = [title] if title else []
    if t._op:
        fields.append(f"op {t._op}")
    fields.append(f"value {_fmt(t.data)}")
    if t.requires_grad:
        fields.append(f"grad {_fmt(t.grad)}")
    return fields


def _style(t: Tensor) -> str:
    return "" if t.requires_grad else ", style=dashed"  # constants take no gradient


def _edges(t: Tensor) -> list[tuple[Tensor, str]]:
    """(input, local-derivative label) for each input of `t`."""
    if not t._parents:
        return []
    if t.data.size != 1:  # the Jacobian is a matrix: show the shapes it connects
        shape = "×".join(map(str, t.shape)) or "1"
        return [(p, f"{'×'.join(map(str, p.shape)) or '1'} → {shape}") for p in t._parents]
    # For a one-element output, backward(1) returns exactly ∂out/∂in for each input.
    with np.errstate(all="ignore"):
        local = t._backward(np.ones_like(t.data))  # type: ignore[operator]
    edges = []
    for parent, d in zip(t._parents, local, strict=True):
        if d is None:
            edges.append((parent, ""))
        elif t.name and parent.name:
            edges.append((parent, f"∂{t.name}/∂{parent.name} = {_fmt(d)}"))
        else:
            edges.append((parent, _fmt(d)))
    return edges


def _summary(root: Tensor, nodes: list[Tensor], rankdir: str) -> list[str]:
    ops = Counter(t._op for t in nodes if t._op)
    leaves = sum(1 for t in nodes if not t._op)
    shown = ", ".join(f"{op} ×{n}" for op, n in ops.most_common(8))
    more = f", {len(ops) - 8} more" if len(ops) > 8 else ""
    text = [f"{len(nodes)} nodes, {leaves} leaves (not drawn)", f"ops: {shown}{more}"]
    return [
        f'  summary [label="{_record(text, rankdir)}", style=dashed];',
        f'  root [label="{_record(_fields(root), rankdir)}"];',
        "  summary -> root;",
    ]


def _record(fields: list[str], rankdir: str) -> str:
    body = "|".join(_escape(f) for f in fields)
    # A record's fields stack across the rank direction; braces turn them to stack vertically.
    return body if rankdir in ("LR", "RL") else "{" + body + "}"


def _escape(text: str) -> str:
    for ch in '\\"{}|<>':
        text = text.replace(ch, "\\" + ch)
    return text
