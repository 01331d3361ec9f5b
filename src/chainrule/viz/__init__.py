"""Pictures: the computational graph, training figures, notebook tables.

- `graph` (with `layout`, `svg`, `mpl`, `style`): the computational graph, below;
- `plotting` (public as `chainrule.plotting`): learning curves, confusion matrix, residuals;
- `plot_style`: the one look of every figure the library draws;
- `html`: the HTML tables that notebooks show (``_repr_html_``).

Only `graph` is imported with this package; the others import what they need (matplotlib)
inside their functions, so `html` serves the layers below without weight.

Pictures of the computational graph (`draw_graph`), drawn with no system dependency.

`draw_graph(t)` returns a `DotGraph`: the Graphviz DOT text of the graph behind `t` (a ``str``,
so printing it gives the DOT text) that also renders itself: ``.render("g.svg")`` writes SVG
directly, ``.render("g.png")`` draws with matplotlib (the ``[plot]`` extra), and either uses
Graphviz's ``dot`` program instead when it is installed (``engine="graphviz"`` insists on it,
``engine="builtin"`` never uses it). In a notebook the object displays as a picture.
"""

from __future__ import annotations

from chainrule.viz.graph import MAX_NODES, DotGraph, GraphvizNotFoundError, draw_graph

__all__ = ["MAX_NODES", "DotGraph", "GraphvizNotFoundError", "draw_graph"]
