"""The built-in SVG renderer: a `Layout` written out as SVG text (no dependency at all).

The text is deterministic (no ids drawn at random, no dates), so committed pictures only
change when the graph does.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from chainrule.viz import style
from chainrule.viz.layout import EDGE_FONT_SIZE, FONT_SIZE, LINE_HEIGHT, PAD, Layout, text_width

__all__ = ["to_svg"]


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def to_svg(lay: Layout) -> str:
    w, h = _n(lay.width), _n(lay.height)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" '
        f'viewBox="0 0 {w} {h}" font-family="{style.SVG_FONTS}">',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto"><path d="M0,1 L10,5 L0,9 z" fill="{style.EDGE}"/>'
        "</marker></defs>",
        f'<rect width="{w}" height="{h}" fill="white"/>',
    ]
    for c in lay.curves:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = c.points
        d = f"M{_n(x0)},{_n(y0)} C{_n(x1)},{_n(y1)} {_n(x2)},{_n(y2)} {_n(x3)},{_n(y3)}"
        out.append(
            f'<path class="edge" d="{d}" fill="none" stroke="{style.EDGE}" '
            'stroke-width="1.2" marker-end="url(#arrow)"/>'
        )
    for c in lay.curves:  # labels above every edge, on a white patch
        if not c.label:
            continue
        tw = text_width(c.label, EDGE_FONT_SIZE) + 4
        out.append(
            f'<rect x="{_n(c.lx - tw / 2)}" y="{_n(c.ly - 7)}" width="{_n(tw)}" height="14" '
            'fill="white" fill-opacity="0.9"/>'
        )
        out.append(
            f'<text class="edge-label" x="{_n(c.lx)}" y="{_n(c.ly)}" font-size="{EDGE_FONT_SIZE}" '
            f'fill="{style.LABEL}" text-anchor="middle" dominant-baseline="central">'
            f"{escape(c.label)}</text>"
        )
    for b in lay.boxes:
        dash = ' stroke-dasharray="5,3"' if b.constant else ""
        out.append(f'<g class="node" id="{escape(b.key)}">')
        out.append(
            f'<rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.w)}" height="{_n(b.h)}" rx="3" '
            f'fill="{style.FILL[b.kind]}" stroke="{style.BORDER}"{dash}/>'
        )
        for i, field in enumerate(b.fields):
            top = b.y + 3 + i * LINE_HEIGHT
            if i:
                out.append(
                    f'<line x1="{_n(b.x)}" y1="{_n(top)}" x2="{_n(b.x + b.w)}" y2="{_n(top)}" '
                    f'stroke="{style.BORDER}" stroke-width="0.5"/>'
                )
            weight = ' font-weight="bold"' if i == 0 and _is_title(b, field) else ""
            out.append(
                f'<text x="{_n(b.x + PAD)}" y="{_n(top + LINE_HEIGHT / 2)}" '
                f'font-size="{FONT_SIZE}" fill="{style.TEXT}" dominant-baseline="central"{weight}>'
                f"{escape(field)}</text>"
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _is_title(box: object, field: str) -> bool:
    """The first field is a name unless the node has none (then it starts with op/value)."""
    return not field.startswith(("op ", "value ", "grad "))
