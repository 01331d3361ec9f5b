"""Colours of the graph drawings (shared by the SVG and matplotlib renderers).

Tints of the Okabe–Ito colour-blind-safe palette: computed values orange, values that take a
gradient (parameters, inputs) blue, constants white with a dashed border.
"""

from __future__ import annotations

FILL = {"op": "#fde9cc", "leaf": "#d6eaf8", "const": "#ffffff"}
BORDER = "#333333"
EDGE = "#555555"
TEXT = "#111111"
LABEL = "#0b5394"  # edge labels: the local derivatives
FONT_FAMILY = "DejaVu Sans Mono"
SVG_FONTS = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"
