"""hub.observe.page.site without a network: the page, its detail, /events and /static."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
from twisted.internet.task import Clock
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from hub.observe.page.site import StatusPage, render_static
from hub.storage.deadletters import DeadLetterStore
from hub.workers.delivery import DeadLetter


def _snapshot() -> dict[str, Any]:
    consumer = {"backlog": 7, "state": "running", "workers": [], "failed": 1,
                "dead_letters": 1, "in_per_s": 2.0, "out_per_s": 1.0,
                "queue_wait_s": {"p50": 0.1, "p99": 0.2}}  # fmt: skip
    return {"hub": {"version": "x", "received": 3}, "consumers": {"slow": consumer}}


def _page(tmp_path: Path) -> tuple[StatusPage, Clock]:
    clock = Clock()
    page = StatusPage(_snapshot, tmp_path, clock=clock)
    page.start()
    return page, clock


def test_events_stream_once_a_second_with_retry(tmp_path: Path) -> None:
    """/events answers retry:, then the figures each tick; a closed request is forgotten."""
    page, clock = _page(tmp_path)
    request = DummyRequest([b""])
    assert page.stream.render_GET(request) == NOT_DONE_YET
    clock.advance(1.0)
    chunks = b"".join(request.written).split(b"\n\n")
    assert chunks[0] == b"retry: 1000"
    event = orjson.loads(chunks[-2].removeprefix(b"data: "))
    assert event["rows"][0]["name"] == "slow" and event["rows"][0]["backlog"] == 7
    assert len(event["history"]["consumers"]["slow"]["backlog"]["fine"]) == 2
    request.processingFailed(Exception("gone"))  # type: ignore[no-untyped-call]
    assert not page.stream.clients
    page.stop()


def test_index_is_a_plain_table_and_svg(tmp_path: Path) -> None:
    """``/`` is server-rendered: the row, the chart paths, the snapshot time, the script."""
    page, _ = _page(tmp_path)
    html = page.render_page(DummyRequest([b""])).decode()
    assert '<tr class="consumer" data-name="slow">' in html
    assert '<td class="backlog">7</td>' in html and '<td class="in_per_s">2.0</td>' in html
    assert 'class="backlog" d="M' in html and "data-snapshot-at=" in html
    assert '<script src="/static/page.js">' in html
    page.stop()


def test_detail_lists_the_newest_dead_letters(tmp_path: Path) -> None:
    """``/?consumer=slow`` shows larger charts and its dead letters with topic and msg_id."""
    store = DeadLetterStore(tmp_path / "deadletters.sqlite")
    store.open()
    store.add(DeadLetter("slow", "org.x", "id-1", b"{}", "ValueError: no", "tb", 3))
    store.close()
    page, _ = _page(tmp_path)
    request = DummyRequest([b""])
    request.args = {b"consumer": [b"slow"]}
    html = page.render_page(request).decode()
    assert "Last hour" in html and "<td>org.x</td><td>id-1</td>" in html
    page.stop()


def test_static_files_are_shipped_and_nothing_else() -> None:
    """page.js and page.css are served from the package; any other name is 404."""
    request = DummyRequest([b"page.js"])
    assert b"EventSource" in render_static(request)
    missing = DummyRequest([b"../site.py"])
    assert render_static(missing) == b"not found\n" and missing.responseCode == 404


def test_nothing_is_fetched_from_elsewhere(tmp_path: Path) -> None:
    """The page, its script and its style name no other host: everything is the hub's own."""
    page, _ = _page(tmp_path)
    texts = [page.render_page(DummyRequest([b""])).decode()]
    texts += [render_static(DummyRequest([name])).decode() for name in (b"page.js", b"page.css")]
    for text in texts:
        assert not re.search(r"https?:|(src|href|url)\W*//", text)
    page.stop()
