"""The whole HTML document of ``/`` and of a consumer's detail (``/?consumer=NAME``).

Pure functions; run on the reactor thread when the page is requested. The document works as
it is without JavaScript (a text browser on a jump host sees the table and the detail lists);
``/static/page.js`` keeps it live from ``/events``. ``data-snapshot-at`` on ``<body>`` is the
time (``time.time()``) of the snapshot the page shows; page.js updates it with each event.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

from hub.observe.page.render import consumer_charts, hub_charts, hub_line, table_html

HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width">'
    '<title>consumer-hub{title}</title><link rel="stylesheet" href="/static/page.css"></head>'
)
BANNER = '<div id="banner" hidden>The hub is unreachable: reconnecting…</div>'


def index(event: dict[str, Any]) -> str:
    """The overview: hub line, the table, every consumer's small charts, the hub's charts."""
    history = event["history"]
    charts = "".join(
        consumer_charts(row["name"], history["consumers"].get(row["name"], {}), big=False)
        for row in event["rows"]
        if row["kind"] == "consumer"
    )
    body = (f'<h1>consumer-hub</h1><p id="hubline">{hub_line(event["hub"])}</p>'
            f'{table_html(event["rows"])}<h2>Last 10 minutes</h2>'
            f'<section id="charts">{charts}</section>'
            f'<section>{hub_charts(history["hub"])}</section>')  # fmt: skip
    return _document("", event["at"], "", body)


def detail(event: dict[str, Any], name: str, letters: list[dict[str, Any]]) -> str:
    """One consumer: its row, larger charts (10 minutes, then an hour), its dead letters."""
    rows = [r for r in event["rows"] if r["kind"] == "consumer" and r["name"] == name]
    if not rows:
        body = f"<h1>No consumer {escape(name)}</h1><p><a href='/'>all consumers</a></p>"
        return _document(f": {name}", event["at"], name, body)
    series = event["history"]["consumers"].get(name, {})
    body = (f'<p><a href="/">all consumers</a></p><h1>{escape(name)}</h1>'
            f'<p id="hubline">{hub_line(event["hub"])}</p>{table_html(rows)}'
            f'<h2>Last 10 minutes</h2>{consumer_charts(name, series, big=True)}'
            f'<h2>Last hour</h2>{consumer_charts(name, series, big=True, ring="coarse")}'
            f'<h2>Dead letters: {rows[0]["dead_letters"]}</h2>'
            f'<p>Its recent failures (each dead-lettered message; newest first):</p>'
            f'{letters_html(letters)}')  # fmt: skip
    return _document(f": {name}", event["at"], name, body)


def letters_html(letters: list[dict[str, Any]]) -> str:
    """The newest dead letters: when, topic, msg_id, attempts, error."""
    if not letters:
        return '<p id="letters">none</p>'
    items = "".join(
        f"<tr><td>{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(d['failed_at']))}Z</td>"
        f"<td>{escape(str(d['topic']))}</td><td>{escape(str(d['msg_id']))}</td>"
        f"<td>{d['attempts']}</td><td>{escape(str(d['error']))}</td></tr>"
        for d in reversed(letters)
    )
    head = "<tr><th>FAILED AT</th><th>TOPIC</th><th>MSG_ID</th><th>ATTEMPTS</th><th>ERROR</th></tr>"
    return f'<table id="letters"><thead>{head}</thead><tbody>{items}</tbody></table>'


def _document(title: str, at: float, consumer: str, body: str) -> str:
    return (f'{HEAD.format(title=escape(title))}<body data-snapshot-at="{at:.6f}"'
            f' data-consumer="{escape(consumer)}">{BANNER}{body}'
            '<script src="/static/page.js"></script></body></html>')  # fmt: skip
