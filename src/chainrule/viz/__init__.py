"""Pictures of the computational graph (`draw_graph`), drawn with no system dependency.

`draw_graph(t)` returns a `DotGraph`: the Graphviz DOT text of the graph behind `t` (a ``str``,
so printing it gives the DOT text) that also renders itself: ``.render("g.svg")`` writes SVG
directly, ``.render("g.png")`` draws with matplotlib (the ``[plot]`` extra), and either uses
Graphviz's ``dot`` program instead when it is installed (``engine="graphviz"`` insists on it,
``engine="builtin"`` never uses it). In a notebook the object displays as a picture.
"""

from __future__ import annotations

from chainrule.viz.graph import MAX_NODES, DotGraph, GraphvizNotFoundError, draw_graph

__all__ = ["MAX_NODES", "DotGraph", "GraphvizNotFoundError", "draw_graph"]
