"""``/events``: Server-Sent Events, one a second, each the page's figures as JSON.

Runs on the reactor thread (twisted.web). A request stays open (``NOT_DONE_YET``); it is sent
``retry:`` (so the browser's EventSource reconnects by itself after a second when the hub goes
away) and the latest event at once, then each new one as `EventStream.publish` is given it.
A request is forgotten when its connection closes (``notifyFinish``). With no request open
nothing is built or encoded: a new one gets ``current()`` first.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

RETRY_MS = 1000


class EventStream(Resource):
    """The open ``/events`` requests; ``current`` builds the event a new one starts with."""

    isLeaf = True

    def __init__(self, current: Callable[[], bytes]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.current = current
        self.clients: set[Request] = set()

    def render_GET(self, request: Request) -> int:
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"cache-control", b"no-cache")
        request.write(f"retry: {RETRY_MS}\n\n".encode())
        request.write(b"data: " + self.current() + b"\n\n")
        self.clients.add(request)
        request.notifyFinish().addBoth(lambda _: self.clients.discard(request))
        return NOT_DONE_YET

    def publish(self, data: bytes) -> None:
        """Send ``data`` (one JSON document, no newline) to every open request."""
        chunk = b"data: " + data + b"\n\n"
        for request in list(self.clients):
            request.write(chunk)

    def close(self) -> None:
        """End every open request (the endpoint is stopping)."""
        for request in list(self.clients):
            self.clients.discard(request)
            request.finish()
