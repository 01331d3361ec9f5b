"""A layered layout for the graph drawings: ranks, order within a rank, coordinates, edges.

The usual layered ("Sugiyama") recipe, kept small for graphs of lecture size:

1. rank: a computed value sits one rank after its latest input; an input (leaf) sits just
   before the first value that uses it;
2. order: within a rank, nodes are sorted by the mean position of their neighbours
   (the barycentre heuristic), sweeping forwards and backwards, to reduce crossings;
3. place: each node moves towards the mean of its neighbours, keeping order and a gap;
4. edges: a cubic Bézier curve from a port on the input's box to a port on the output's.

Sizes are in points (1/72 inch). Text widths are exact for a monospace font (DejaVu Sans Mono,
0.602 em per character), which the SVG and matplotlib renderers both ask for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Box", "Curve", "Layout", "layout", "text_width"]

FONT_SIZE = 11.0  # node text
EDGE_FONT_SIZE = 9.5  # edge labels
LINE_HEIGHT = 16.0
CHAR_EM = 0.602  # advance width of a DejaVu Sans Mono character, in em
PAD = 7.0  # text padding inside a box
MARGIN = 12.0
NODE_GAP = 22.0  # between boxes of one rank
MIN_RANK_GAP = 48.0


def text_width(text: str, size: float) -> float:
    return len(text) * CHAR_EM * size


@dataclass(frozen=True)
class Box:
    """A node's box: top-left corner, size, and what to write in it."""

    key: str
    x: float
    y: float
    w: float
    h: float
    fields: tuple[str, ...]
    kind: str
    constant: bool


@dataclass(frozen=True)
class Curve:
    """An edge: Bézier control points p0 → p3, and the label at (lx, ly)."""

    points: tuple[tuple[float, float], ...]
    label: str
    lx: float
    ly: float


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: tuple[Box, ...]
    curves: tuple[Curve, ...]


def layout(nodes: Sequence, edges: Sequence, rankdir: str = "LR") -> Layout:
    """Positions for `nodes` (GraphNode, inputs first) and `edges` (GraphEdge)."""
    keys = [n.key for n in nodes]
    parents: dict[str, list[str]] = {k: [] for k in keys}
    children: dict[str, list[str]] = {k: [] for k in keys}
    for e in edges:
        parents[e.dst].append(e.src)
        children[e.src].append(e.dst)
    rank = _ranks(keys, parents, children)
    layers = _order(keys, rank, parents, children)
    size = {n.key: _box_size(n.fields) for n in nodes}
    horizontal = rankdir in ("LR", "RL")
    # "along": the rank axis; "across": the axis within a rank.
    along_size = {k: (w if horizontal else h) for k, (w, h) in size.items()}
    across_size = {k: (h if horizontal else w) for k, (w, h) in size.items()}
    across = _place(layers, across_size, parents, children)

    n_ranks = len(layers)
    gaps = [MIN_RANK_GAP] * max(n_ranks - 1, 0)
    crowd = [0] * len(gaps)  # labelled edges leaving each rank
    for e in edges:
        if e.label:
            crowd[rank[e.src]] += 1
    for e in edges:
        if e.label and rank[e.dst] - rank[e.src] >= 1:
            r = rank[e.src]
            if horizontal:  # room for the label; more when many labels share the gap
                widen = 1.0 + 0.25 * min(max(crowd[r] - 2, 0), 4)
                need = (text_width(e.label, EDGE_FONT_SIZE) * widen + 36) / (rank[e.dst] - r)
            else:
                need = 3 * LINE_HEIGHT
            gaps[r] = max(gaps[r], need)
    thickness = [max(along_size[k] for k in layer) for layer in layers]
    start, pos = [], MARGIN
    for r in range(n_ranks):
        start.append(pos)
        pos += thickness[r] + (gaps[r] if r < n_ranks - 1 else 0)
    total_along = pos + MARGIN
    total_across = max((across[k] + across_size[k] / 2 for k in keys), default=0) + MARGIN

    boxes: dict[str, Box] = {}
    by_key = {n.key: n for n in nodes}
    for k in keys:
        w, h = size[k]
        a = start[rank[k]] + (thickness[rank[k]] - along_size[k]) / 2  # centred in its rank
        c = across[k] - across_size[k] / 2
        if rankdir == "RL":
            a = total_along - a - along_size[k]
        if rankdir == "BT":
            a = total_along - a - along_size[k]
        x, y = (a, c) if horizontal else (c, a)
        n = by_key[k]
        boxes[k] = Box(k, x, y, w, h, tuple(n.fields), n.kind, n.constant)
    width, height = (total_along, total_across) if horizontal else (total_across, total_along)
    curves = _curves(edges, boxes, rankdir)
    return Layout(width, height, tuple(boxes[k] for k in keys), curves)


def _box_size(fields: Sequence[str]) -> tuple[float, float]:
    w = max((text_width(f, FONT_SIZE) for f in fields), default=20.0) + 2 * PAD
    return max(w, 40.0), LINE_HEIGHT * max(len(fields), 1) + 6.0


def _ranks(keys: list[str], parents: dict, children: dict) -> dict[str, int]:
    rank: dict[str, int] = {}
    for k in keys:  # inputs come first, so every parent is ranked already
        rank[k] = 1 + max((rank[p] for p in parents[k]), default=-1)
    for k in reversed(keys):  # leaves move up to just before their first use
        if not parents[k] and children[k]:
            rank[k] = max(min(rank[c] for c in children[k]) - 1, 0)
    low = min(rank.values(), default=0)
    return {k: r - low for k, r in rank.items()}


def _order(keys: list[str], rank: dict, parents: dict, children: dict) -> list[list[str]]:
    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for k in keys:
        layers[rank[k]].append(k)
    for _ in range(4):
        down, up = range(1, len(layers)), range(len(layers) - 2, -1, -1)
        for sweep, neighbours in ((down, parents), (up, children)):
            for r in sweep:
                index = {k: i for layer in layers for i, k in enumerate(layer)}
                key = {k: _mean([index[n] for n in neighbours[k]], index[k]) for k in layers[r]}
                layers[r].sort(key=key.__getitem__)  # stable: ties keep their order
    return layers


def _mean(values: list, default: float) -> float:
    return sum(values) / len(values) if values else default


def _place(layers: list[list[str]], size: dict, parents: dict, children: dict) -> dict[str, float]:
    """The centre of each node across the ranks."""
    centre: dict[str, float] = {}
    for layer in layers:
        pos = MARGIN
        for k in layer:
            centre[k] = pos + size[k] / 2
            pos += size[k] + NODE_GAP
    height = max((centre[k] + size[k] / 2 for k in centre), default=0)
    for layer in layers:  # centre each rank to begin with
        extent = centre[layer[-1]] + size[layer[-1]] / 2 - MARGIN
        shift = (height - MARGIN - extent) / 2
        for k in layer:
            centre[k] += shift
    for _ in range(12):
        for layer in layers:
            want = [_mean([centre[n] for n in parents[k] + children[k]], centre[k]) for k in layer]
            _spread(layer, want, size, centre)
    low = min((centre[k] - size[k] / 2 for k in centre), default=MARGIN)
    return {k: c - low + MARGIN for k, c in centre.items()}


def _spread(layer: list[str], want: list[float], size: dict, centre: dict) -> None:
    """Put the nodes of one rank as close to `want` as their order and gaps allow."""
    n = len(layer)
    forward = list(want)
    for i in range(1, n):
        least = forward[i - 1] + (size[layer[i - 1]] + size[layer[i]]) / 2 + NODE_GAP
        forward[i] = max(forward[i], least)
    backward = list(want)
    for i in range(n - 2, -1, -1):
        most = backward[i + 1] - (size[layer[i + 1]] + size[layer[i]]) / 2 - NODE_GAP
        backward[i] = min(backward[i], most)
    # The mean of the two passes keeps the gaps (both satisfy them) and centres the group.
    for i, k in enumerate(layer):
        centre[k] = (forward[i] + backward[i]) / 2


def _curves(edges: Sequence, boxes: dict[str, Box], rankdir: str) -> tuple[Curve, ...]:
    horizontal = rankdir in ("LR", "RL")
    sign = -1.0 if rankdir in ("RL", "BT") else 1.0

    def across(b: Box) -> float:
        return b.y + b.h / 2 if horizontal else b.x + b.w / 2

    # Ports: the edges leaving (entering) a box are spread along its side, in the order of the
    # boxes at their other ends, so parallel edges (x * x) get two arrows and two labels.
    out_port: dict[int, float] = {}
    in_port: dict[int, float] = {}
    for mine, other, port in (("src", "dst", out_port), ("dst", "src", in_port)):
        groups: dict[str, list[int]] = {}
        for i, e in enumerate(edges):
            groups.setdefault(getattr(e, mine), []).append(i)
        for key, idx in groups.items():
            idx.sort(key=lambda i: (across(boxes[getattr(edges[i], other)]), i))
            b = boxes[key]
            length = b.h if horizontal else b.w
            lo = b.y if horizontal else b.x
            for j, i in enumerate(idx):
                port[i] = lo + length * (j + 1) / (len(idx) + 1)
    curves = []
    for i, e in enumerate(edges):
        s, d = boxes[e.src], boxes[e.dst]
        if horizontal:
            x0 = s.x + s.w if sign > 0 else s.x
            x3 = d.x if sign > 0 else d.x + d.w
            y0, y3 = out_port[i], in_port[i]
            bend = max(abs(x3 - x0) * 0.45, 12.0) * sign
            pts = ((x0, y0), (x0 + bend, y0), (x3 - bend, y3), (x3, y3))
        else:
            y0 = s.y + s.h if sign > 0 else s.y
            y3 = d.y if sign > 0 else d.y + d.h
            x0, x3 = out_port[i], in_port[i]
            bend = max(abs(y3 - y0) * 0.45, 12.0) * sign
            pts = ((x0, y0), (x0, y0 + bend), (x3, y3 - bend), (x3, y3))
        curves.append(Curve(pts, e.label, *_bezier(pts, 0.5)))
    return _place_labels(curves, boxes)


def _bezier(p: tuple[tuple[float, float], ...], t: float) -> tuple[float, float]:
    """The point B(t) = (1−t)³p₀ + 3(1−t)²t p₁ + 3(1−t)t² p₂ + t³p₃ of a cubic Bézier curve."""
    c = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
    x = sum(k * q[0] for k, q in zip(c, p, strict=True))
    return x, sum(k * q[1] for k, q in zip(c, p, strict=True))


def _place_labels(curves: list[Curve], boxes: dict[str, Box]) -> tuple[Curve, ...]:
    """Move each label along its curve, from the middle outwards, to the spot where it covers
    the least of the boxes and of the labels placed before it (labels count double)."""
    box_rects = [(b.x, b.y, b.x + b.w, b.y + b.h) for b in boxes.values()]
    label_rects: list[tuple[float, ...]] = []
    placed = []
    for c in curves:
        if not c.label:
            placed.append(c)
            continue
        half_w, half_h = text_width(c.label, EDGE_FONT_SIZE) / 2 + 2, EDGE_FONT_SIZE * 0.7
        best: tuple[float, float, float, tuple[float, ...]] | None = None
        for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82):
            x, y = _bezier(c.points, t)
            rect = (x - half_w, y - half_h, x + half_w, y + half_h)
            cost = sum(_overlap(rect, r) for r in box_rects)
            cost += 2 * sum(_overlap(rect, r) for r in label_rects)
            if best is None or cost < best[0]:
                best = (cost, x, y, rect)
            if cost == 0:
                break
        assert best is not None
        label_rects.append(best[3])
        placed.append(Curve(c.points, c.label, best[1], best[2]))
    return tuple(placed)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The area two rectangles (x0, y0, x1, y1) share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
