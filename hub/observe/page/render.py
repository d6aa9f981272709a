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
from hub.observe.page.svg import chart

COLUMNS = (
    ("name", "NAME"), ("state", "STATE"), ("backlog", "BACKLOG"), ("oldest_age_s", "OLDEST"),
    ("in_per_s", "IN/S"), ("out_per_s", "OUT/S"), ("wait_p50_s", "WAIT p50"),
    ("wait_p99_s", "WAIT p99"), ("duration_p50_s", "DUR p50"), ("duration_p99_s", "DUR p99"),
    ("failed", "FAILED"), ("dead_letters", "DEAD LETTERS"), ("behind", "FALLING BEHIND"),
)  # fmt: skip
HUB_CHARTS = (
    ("received/s", [("in", "received_per_s")]),
    ("decode errors", [("err", "decode_errors")]),
    ("input paused", [("paused", "input_paused")]),
    ("RSS bytes", [("rss", "rss_bytes")]),
)


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
    width, height = (900, 180) if big else (300, 60)

    def values(key: str) -> list[float | None]:
        return list((series.get(key) or {}).get(ring) or [])

    charts = [
        chart(f"{name} backlog", [("backlog", values("backlog"))], width, height),
        chart(
            f"{name} in vs out /s",
            [("in", values("in_per_s")), ("out", values("out_per_s"))],
            width,
            height,
        ),
        chart(f"{name} p99 wait s", [("wait", values("wait_p99_s"))], width, height),
    ]
    return (f'<div class="charts" data-name="{escape(name)}" data-ring="{ring}">'
            f'<h3>{escape(name)}</h3>{"".join(charts)}</div>')  # fmt: skip


def hub_charts(series: dict[str, Any]) -> str:
    charts = [
        chart(title, [(css, list((series.get(key) or {}).get("fine") or [])) for css, key in lines])
        for title, lines in HUB_CHARTS
    ]
    return f'<div class="charts" id="hubcharts"><h3>hub</h3>{"".join(charts)}</div>'


def hub_line(hub: dict[str, Any]) -> str:
    errors = sum((hub.get("decode_errors") or {}).values())
    return (f"hub {escape(str(hub.get('version', '?')))} up {seconds(hub.get('uptime_s'))}, "
            f"received {hub.get('received', 0)} ({rate(hub.get('received_per_s'))}/s), "
            f"backlog {hub.get('backlog', 0)}, decode errors {errors}, "
            f"input {'PAUSED' if hub.get('input_paused') else 'flowing'}")  # fmt: skip
