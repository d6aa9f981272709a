"""The HTML of ``/``: the server-rendered table (the page as it is without JavaScript) and the
charts as inline SVG, plus a consumer's detail (``/?consumer=NAME``).

Pure functions over the snapshot, the page's rows (`hub.observe.page.rows`) and its rings
(`hub.observe.page.history`); run on the reactor thread when ``/`` is requested. ``page.js``
then keeps the same elements live from ``/events``; the markup's ids and classes are what it
fills in.
"""

from __future__ import annotations

from html import escape
from typing import Any

from hub.cli.table import rate, seconds
from hub.observe.page.history import COARSE, FINE
from hub.observe.page.svg import Line, chart

COLUMNS = (
    ("name", "NAME"), ("state", "STATE"), ("backlog", "BACKLOG"), ("oldest_age_s", "OLDEST"),
    ("in_per_s", "IN/S"), ("out_per_s", "OUT/S"), ("wait_p50_s", "WAIT p50"),
    ("wait_p99_s", "WAIT p99"), ("duration_p50_s", "DUR p50"), ("duration_p99_s", "DUR p99"),
    ("failed", "FAILED"), ("dead_letters", "DEAD LETTERS"), ("behind", "FALLING BEHIND"),
)  # fmt: skip
HUB_CHARTS = (
    ("received/s", [("in", "received_per_s")]),
    ("decode errors", [("err", "decode_errors")]),  # then one line per cause
    ("input paused", [("paused", "input_paused")]),
    ("RSS bytes", [("rss", "rss_bytes")]),
)
SPANS = {"fine": FINE, "coarse": COARSE}


def cell(key: str, row: dict[str, Any]) -> str:
    """One cell's text, formatted as ``top`` formats it."""
    value = row.get(key)
    if key == "name":
        return str(value)
    if key.endswith("_per_s"):
        return rate(value) if row["kind"] == "consumer" else ""
    if key.endswith("_s"):
        return seconds(value) if row["kind"] == "consumer" else ""
    return "" if value is None else str(value)


def row_html(row: dict[str, Any]) -> str:
    cells = []
    for key, _ in COLUMNS:
        text = escape(cell(key, row))
        if key == "name" and row["kind"] == "consumer":
            text = f'<a href="/?consumer={escape(row["name"])}">{text}</a>'
        cells.append(f'<td class="{key}">{text}</td>')
    mark = " behind" if row.get("behind") else ""
    return (f'<tr class="{row["kind"]}{mark}" data-name="{escape(row["name"])}">'
            f'{"".join(cells)}</tr>')  # fmt: skip


def table_html(rows: list[dict[str, Any]]) -> str:
    head = "".join(f'<th class="{key}">{title}</th>' for key, title in COLUMNS)
    body = "".join(row_html(r) for r in rows)
    return f'<table id="rows"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def consumer_charts(name: str, series: dict[str, Any], big: bool, ring: str = "fine") -> str:
    """Backlog, in vs out rate and p99 wait of one consumer."""
    size = (900, 180) if big else (300, 60)

    def values(key: str) -> list[float | None]:
        return list((series.get(key) or {}).get(ring) or [])

    plots = [
        ("backlog", [("backlog", values("backlog"))]),
        ("in vs out /s", [("in", values("in_per_s")), ("out", values("out_per_s"))]),
        ("p99 wait s", [("wait", values("wait_p99_s"))]),
    ]
    charts = "".join(chart(title, lines, *size, span=SPANS[ring]) for title, lines in plots)
    return (f'<div class="charts" data-name="{escape(name)}" data-ring="{ring}">'
            f"<h3>{escape(name)}</h3>{charts}</div>")  # fmt: skip


def causes(series: dict[str, Any]) -> list[str]:
    """The decode error causes seen so far (a series each: ``decode_errors:<cause>``)."""
    return sorted(k.split(":", 1)[1] for k in series if k.startswith("decode_errors:"))


def hub_lines(series: dict[str, Any], title: str, lines: list[tuple[str, str]]) -> list[Line]:
    """The lines of one hub chart; decode errors get one more line per cause."""
    keys = list(lines)
    if title == "decode errors":
        keys += [(f"err{n % 4}", f"decode_errors:{c}") for n, c in enumerate(causes(series))]
    return [(css, list((series.get(key) or {}).get("fine") or [])) for css, key in keys]


def hub_charts(series: dict[str, Any]) -> str:
    """Received/s, decode errors (all, and by cause), input paused, RSS: ten minutes."""
    by_cause = ", ".join(causes(series))
    charts = []
    for title, lines in HUB_CHARTS:
        label = f"{title} ({by_cause})" if by_cause and title == "decode errors" else title
        charts.append(chart(label, hub_lines(series, title, lines)))
    return f'<div class="charts" id="hubcharts"><h3>hub</h3>{"".join(charts)}</div>'


def hub_line(hub: dict[str, Any]) -> str:
    errors = sum((hub.get("decode_errors") or {}).values())
    return (f"hub {escape(str(hub.get('version', '?')))} up {seconds(hub.get('uptime_s'))}, "
            f"received {hub.get('received', 0)} ({rate(hub.get('received_per_s'))}/s), "
            f"backlog {hub.get('backlog', 0)}, decode errors {errors}, "
            f"input {'PAUSED' if hub.get('input_paused') else 'flowing'}")  # fmt: skip
