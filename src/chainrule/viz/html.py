"""HTML tables for notebook display (``_repr_html_``): no dependency, everything escaped."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["html_table"]


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return format(value, fmt)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def html_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    caption: str | None = None,
    fmt: str = ".4g",
    footer: Sequence[str] = (),
) -> str:
    """A ``<table>``: `headers`, then `rows` (floats formatted with `fmt`), then `footer` lines."""
    right = [
        all(isinstance(r[j], int | float) or r[j] is None for r in rows if j < len(r))
        for j in range(len(headers))
    ]
    out = ["<table>"]
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append(
        "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr></thead>"
    )
    out.append("<tbody>")
    for row in rows:
        cells = (
            f'<td style="text-align:{"right" if right[j] else "left"}">'
            f"{html.escape(_cell(v, fmt))}</td>"
            for j, v in enumerate(row)
        )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody>")
    if footer:
        span = len(headers)
        out.append(
            "<tfoot>"
            + "".join(f'<tr><td colspan="{span}">{html.escape(line)}</td></tr>' for line in footer)
            + "</tfoot>"
        )
    out.append("</table>")
    return "\n".join(out)
