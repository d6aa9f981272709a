"""Line charts as inline SVG, drawn by our own code (no chart library, nothing fetched).

Pure functions; run on the reactor thread when a page is rendered. ``page.js`` draws the same
shapes in the browser from the live figures (its ``chart()`` mirrors `chart` here), so the page
without JavaScript shows the same charts, as of the moment it was served.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

Line = tuple[str, Sequence[float | None]]  # (css class, values, oldest first)


def path(values: Sequence[float | None], top: float, size: tuple[int, int], span: int) -> str:
    """The ``d`` of one line: right-aligned, ``span`` points wide (the ring's capacity, so the
    x axis is fixed time); gaps (None) break it."""
    width, height = size
    step = width / max(1, span - 1)
    parts: list[str] = []
    pen_up = True
    for i, value in enumerate(values):
        if value is None:
            pen_up = True
            continue
        x = width - (len(values) - 1 - i) * step
        y = height - (value / top) * height if top > 0 else height
        parts.append(f"{'M' if pen_up else 'L'}{x:.1f},{y:.1f}")
        pen_up = False
    return "".join(parts)


def chart(
    title: str, lines: Sequence[Line], width: int = 300, height: int = 60, span: int = 600
) -> str:
    """An ``<svg>`` with one ``<path>`` per line, scaled to the largest value (shown)."""
    top = max((v for _, values in lines for v in values if v is not None), default=0.0)
    paths = "".join(
        f'<path class="{escape(css)}" d="{path(values, top, (width, height), span)}"/>'
        for css, values in lines
    )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>{paths}'
        f'<text x="3" y="11" class="top">{escape(title)}: max {top:.4g}</text></svg>'
    )
