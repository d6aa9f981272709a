"""`StatusPage`: ``/``, ``/events`` and ``/static/`` on the status endpoint.

Runs on the reactor thread. Once a second (its own timer, started and stopped with the
`hub.observe.status.StatusServer`) it takes the snapshot (the one /status serves) and adds a
point to every ring (`hub.observe.page.history`); while a browser listens on ``/events`` it
also builds the event (rows and rings) and sends it. Nothing is done per message. ``/`` is
rendered from a fresh snapshot and the rings; a consumer's detail also reads its newest dead
letters from ``deadletters.sqlite`` (a few rows, by id). Read-only: the page has no write actions.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
from twisted.internet.task import LoopingCall
from twisted.web.resource import Resource
from twisted.web.server import Request

from hub.errors import DeadLetterError
from hub.observe.page.document import detail, index
from hub.observe.page.history import History
from hub.observe.page.rows import rows
from hub.observe.page.sse import EventStream
from hub.storage.deadletters import DeadLetterStore

log = logging.getLogger(__name__)

TICK_S = 1.0
NEWEST_LETTERS = 5
TYPES = {"js": b"text/javascript", "css": b"text/css", "html": b"text/html"}
STATIC = {
    p.name: p.read_bytes() for p in files("hub.observe.page").joinpath("static").iterdir()
    if p.name.rsplit(".", 1)[-1] in TYPES
}  # fmt: skip


class _Leaf(Resource):
    isLeaf = True

    def __init__(self, render: Any) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._render = render

    def render_GET(self, request: Request) -> bytes:
        return bytes(self._render(request))


class _Mounted:
    """A resource with nothing to start or stop (an `hub.observe.status.Extra`)."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class StatusPage:
    """The page: its rings, its event stream, its timer."""

    def __init__(self, snapshot: Any, state_dir: Path, clock: Any = None) -> None:
        self.snapshot = snapshot
        self.history = History()
        self.stream = EventStream(lambda: orjson.dumps(self.event(sample=False)))
        self.letters = DeadLetterStore(state_dir / "deadletters.sqlite")
        self.letters_open = False
        self.resource = _Leaf(self.render_page)
        self.timer = LoopingCall(self.tick)
        if clock is not None:
            self.timer.clock = clock

    def extras(self) -> dict[bytes, Any]:
        """What the status endpoint mounts: ``/`` (this, with the timer), events, static."""
        return {b"": self, b"events": _Mounted(self.stream),
                b"static": _Mounted(_Leaf(render_static))}  # fmt: skip

    def start(self) -> None:
        self.timer.start(TICK_S, now=True)

    def stop(self) -> None:
        if self.timer.running:
            self.timer.stop()
        self.stream.close()
        self.letters.close()
        self.letters_open = False

    def event(self, sample: bool) -> dict[str, Any]:
        """The figures the page shows: a fresh snapshot (added to the rings when ``sample``)."""
        snapshot = self.snapshot()
        at = time.time()
        if sample:
            self.history.sample(snapshot, at)
        backlogs = {
            n: s["backlog"].fine for n, s in self.history.consumers.items() if "backlog" in s
        }
        return {"at": at, "hub": snapshot.get("hub") or {}, "rows": rows(snapshot, backlogs),
                "history": self.history.doc()}  # fmt: skip

    def tick(self) -> None:
        """Sample the rings; send the event when a browser is listening."""
        try:
            if self.stream.clients:
                self.stream.publish(orjson.dumps(self.event(sample=True)))
            else:
                self.history.sample(self.snapshot(), time.time())
        except Exception:  # a defect here must not stop the timer for good
            log.exception("status page: cannot build this second's figures")

    def render_page(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        event = self.event(sample=False)
        name = (request.args or {}).get(b"consumer", [b""])[0].decode("utf-8", "replace")
        if not name:
            return index(event).encode("utf-8")
        return detail(event, name, self.newest_letters(name)).encode("utf-8")

    def newest_letters(self, name: str) -> list[dict[str, Any]]:
        try:
            if not self.letters_open:
                self.letters.open()
                self.letters_open = True
            return self.letters.rows(consumer=name, limit=NEWEST_LETTERS)
        except (DeadLetterError, sqlite3.Error) as exc:
            log.warning("status page: cannot read dead letters: %s", exc)
            return []


def render_static(request: Request) -> bytes:
    """A file shipped in ``static/``; 404 for anything else."""
    name = b"/".join(request.postpath or []).decode("utf-8", "replace")
    body = STATIC.get(name)
    if body is None:
        request.setResponseCode(404)
        return b"not found\n"
    request.setHeader(b"content-type", TYPES[name.rsplit(".", 1)[-1]])
    return body
