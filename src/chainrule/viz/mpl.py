"""The built-in PNG/PDF renderer: a `Layout` drawn with matplotlib (the ``[plot]`` extra).

One layout unit is one point, so the figure is the layout's size in inches / 72 and the text
sizes match the SVG's. The figure is made without pyplot (no backend switched, no window), and
saved without a date or software version, so a rebuild gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from chainrule.viz import style
from chainrule.viz.layout import EDGE_FONT_SIZE, FONT_SIZE, LINE_HEIGHT, PAD, Layout

__all__ = ["draw", "png_bytes", "save"]

_METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
}


def draw(lay: Layout) -> Any:
    """A matplotlib Figure of the layout."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, Rectangle
        from matplotlib.path import Path as MplPath
    except ImportError as exc:
        raise ImportError(
            'drawing a graph as PNG or PDF needs matplotlib: pip install "chainrule[plot]" '
            "(or write .svg, which needs nothing)"
        ) from exc
    fig = Figure(figsize=(lay.width / 72, lay.height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)  # y grows downwards, as in SVG
    ax.set_axis_off()
    font = {"family": style.FONT_FAMILY}
    codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4]
    for c in lay.curves:
        ax.add_patch(
            FancyArrowPatch(
                path=MplPath(c.points, codes),
                arrowstyle="-|>,head_length=6,head_width=3",
                color=style.EDGE,
                linewidth=1.2,
                shrinkA=0,
                shrinkB=0,
                zorder=1,
            )
        )
    for c in lay.curves:
        if c.label:
            ax.text(
                c.lx, c.ly, c.label, fontdict=font, fontsize=EDGE_FONT_SIZE, color=style.LABEL,
                ha="center", va="center", zorder=2,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9, "pad": 1},
            )  # fmt: skip
    for b in lay.boxes:
        ax.add_patch(
            Rectangle(
                (b.x, b.y), b.w, b.h, facecolor=style.FILL[b.kind], edgecolor=style.BORDER,
                linewidth=1, linestyle=(0, (5, 3)) if b.constant else "-", zorder=3,
            )
        )  # fmt: skip
        for i, field in enumerate(b.fields):
            top = b.y + 3 + i * LINE_HEIGHT
            if i:
                ax.plot([b.x, b.x + b.w], [top, top], color=style.BORDER, linewidth=0.5, zorder=4)
            bold = i == 0 and not field.startswith(("op ", "value ", "grad "))
            ax.text(
                b.x + PAD, top + LINE_HEIGHT / 2, field, fontdict=font, fontsize=FONT_SIZE,
                color=style.TEXT, ha="left", va="center_baseline", zorder=5,
                fontweight="bold" if bold else "normal",
            )  # fmt: skip
    return fig


def save(lay: Layout, path: Path, fmt: str, dpi: int = 144) -> None:
    draw(lay).savefig(path, format=fmt, dpi=dpi, metadata=_METADATA.get(fmt), facecolor="white")


def png_bytes(lay: Layout, dpi: int = 96) -> bytes:
    buffer = io.BytesIO()
    draw(lay).savefig(buffer, format="png", dpi=dpi, metadata=_METADATA["png"], facecolor="white")
    return buffer.getvalue()
