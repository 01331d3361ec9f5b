"""The one look of every chainrule figure: sizes, fonts and a colour-blind-safe palette.

Every figure the library draws (learning curves, confusion matrices, recipe and tuning charts,
the tutorials' figures, the benchmark chart) goes through `styled` (or `rc`), so they share
font sizes, grid and colours. The palette is Okabe and Ito's, distinguishable with the common
colour-vision deficiencies; a series' meaning has a fixed colour (training blue, validation
orange, the best or the chosen value vermillion, reference lines grey). The font is DejaVu
Sans, which ships with matplotlib, so a figure looks (and its file reads) the same everywhere.

matplotlib is imported only inside the functions (the ``[plot]`` extra).
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = [
    "BEST",
    "MUTED",
    "PALETTE",
    "TRAIN",
    "VALIDATION",
    "integer_ticks",
    "new_axes",
    "png_bytes",
    "rc",
    "style_context",
    "styled",
]

# Okabe & Ito (2008), "Color Universal Design".
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#8c8c8c",
}
# Like matplotlib's default cycle: "C0" blue, "C1" orange, "C2" green, "C3" red, "C7" grey.
CYCLE = ("blue", "orange", "green", "vermillion", "purple", "sky", "black", "grey")
TRAIN = PALETTE["blue"]
VALIDATION = PALETTE["orange"]
BEST = PALETTE["vermillion"]
MUTED = PALETTE["grey"]  # reference lines, pruned trials, members of an ensemble

FigureFn = TypeVar("FigureFn", bound=Callable[..., Any])


def rc() -> dict[str, Any]:
    """The matplotlib settings (``rcParams``) of every chainrule figure."""
    from cycler import cycler  # installed with matplotlib

    return {
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        "font.family": "DejaVu Sans",
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "legend.framealpha": 0.9,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=[PALETTE[c] for c in CYCLE]),
        "lines.linewidth": 1.6,
        "image.cmap": "viridis",
        "svg.hashsalt": "chainrule",  # SVG ids that do not change from run to run
    }


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """The chainrule style while the block runs (matplotlib reads it as artists are made)."""
    import matplotlib

    with matplotlib.rc_context(rc()):
        yield


def styled(fn: FigureFn) -> FigureFn:
    """`fn` draws its figure in the chainrule style."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with style_context():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_axes(ax: Any = None, size: tuple[float, float] = (6.4, 4.0)) -> Any:
    """`ax`, or the axes of a new figure of `size` inches made without pyplot (no window,
    no global state)."""
    if ax is not None:
        return ax
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            'plotting needs matplotlib, which is not installed: pip install "chainrule[plot]"'
        ) from exc
    return Figure(figsize=size, layout="constrained").add_subplot()


def integer_ticks(axis: Any) -> None:
    """Ticks at whole numbers only (epochs, trials, members)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def png_bytes(fig: Any, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, without the software version (so rebuilds match)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
