"""``/archive/raw`` on the status endpoint: datagrepper's ``/raw``, answered from the archive.

Requests arrive on the reactor thread (twisted.web): the peer is checked (loopback only, else
403), the parameters read (`hub.observe.raw_params`; a bad one is 400, naming it), and the
database work handed to this page's own thread pool, one thread named ``archive-raw`` (never
the reactor's shared pool), which owns the `ArchiveReader`: it opens it on first use and keeps
it. The answer (datagrepper's ``raw_messages``, ``total``, ``pages``, ``count``,
``arguments``; each message datanommer's ``as_dict()`` as datagrepper encodes it:
`hub.storage.archive.shapes.datagrepper`) is written back on the reactor thread. No archive
yet, or a database that cannot be reached, is 503 with the reason; the next request tries again.

`status_server` builds the status endpoint for a configuration, with this page when
``status.archive_raw`` names an archive consumer (checked by `hub.config.archive`).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import orjson
from twisted.internet.address import UNIXAddress
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from hub.config import HubConfig
from hub.config.archive import is_loopback
from hub.observe.page.site import StatusPage
from hub.observe.raw_params import Args, BadParameter, RawRequest, parse
from hub.observe.status import Extra, Readiness, Snapshot, StatusServer
from hub.storage.archive.errors import ArchiveError, ArchiveMissing, ArchiveUnavailable
from hub.storage.archive.location import archives
from hub.storage.archive.reader import ArchiveReader
from hub.storage.archive.shapes import datagrepper

log = logging.getLogger(__name__)

THREAD_NAME = "archive-raw"


class _RawPage(Resource):
    isLeaf = True  # /archive/raw and /archive/raw/ alike (datagrepper: strict_slashes=False)

    def __init__(self, owner: ArchiveRaw) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.owner = owner

    def render_GET(self, request: Request) -> bytes | int:
        return self.owner.render(request)


def request_args(request: Request) -> Args:
    """The query parameters as text; undecodable bytes are a `BadParameter`."""
    args: dict[str, list[str]] = {}
    for key, values in (request.args or {}).items():
        try:
            args[key.decode("utf-8")] = [v.decode("utf-8") for v in values]
        except UnicodeDecodeError:
            raise BadParameter(key.decode("utf-8", "replace"), "not UTF-8") from None
    return args


class ArchiveRaw:
    """The ``/archive`` resource (``raw`` below it) over the archive at ``url``."""

    def __init__(self, reactor: Any, url: str, clock: Any = time.time) -> None:
        self.reactor = reactor
        self.url = url
        self.clock = clock
        self.pool = ThreadPool(minthreads=0, maxthreads=1, name=THREAD_NAME)
        self.resource = Resource()
        self.resource.putChild(b"raw", _RawPage(self))  # type: ignore[arg-type]
        self._reader: ArchiveReader | None = None  # the pool's thread only

    def start(self) -> None:
        self.pool.start()

    def stop(self) -> None:
        """Stop the thread (it finishes the query it is on); then close the reader."""
        self.pool.stop()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def render(self, request: Request) -> bytes | int:
        """Answer one GET (reactor thread): 403, 400, or the answer later (NOT_DONE_YET)."""
        address = request.getClientAddress()
        local = isinstance(address, UNIXAddress)  # status.socket: a local peer
        if not (local or is_loopback(getattr(address, "host", ""))):  # an address, never a name
            return _json(request, 403, {"error": "/archive/raw answers loopback clients only"})
        try:
            asked = parse(request_args(request), self.clock())
        except BadParameter as exc:
            return _json(request, 400, {"error": str(exc), "parameter": exc.name})
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _failure: gone.append(True))
        answer = deferToThreadPool(self.reactor, self.pool, self.answer, asked)
        answer.addCallbacks(
            lambda body: None if gone else _finish(request, 200, body),
            lambda failure: None if gone else _failed(request, failure),
        )
        return NOT_DONE_YET

    def answer(self, asked: RawRequest) -> bytes:
        """The response body for ``asked`` (the ``archive-raw`` thread)."""
        reader = self._open()
        total = reader.count(asked.query)
        messages = reader.page(asked.query, asked.page, asked.rows_per_page)
        return orjson.dumps({
            "raw_messages": [datagrepper(m) for m in messages],
            "total": total,
            "pages": math.ceil(total / asked.rows_per_page),
            "count": len(messages),
            "arguments": asked.arguments,
        })  # fmt: skip

    def _open(self) -> ArchiveReader:
        if self._reader is None:
            self._reader = ArchiveReader(self.url).open()
            log.info("/archive/raw: serving %s", self._reader.shown)
        return self._reader


def _json(request: Request, code: int, document: dict[str, Any]) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json")
    return orjson.dumps(document)


def _finish(request: Request, code: int, body: bytes) -> None:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json")
    request.write(body)
    request.finish()


def _failed(request: Request, failure: Any) -> None:
    """No archive or no database: 503 with the reason; anything else: 500, logged."""
    if failure.check(ArchiveMissing, ArchiveUnavailable):
        log.warning("/archive/raw: %s", failure.value)
        _finish(request, 503, orjson.dumps({"error": str(failure.value)}))
        return
    if failure.check(ArchiveError):
        log.error("/archive/raw: %s", failure.value)
    else:
        log.error("/archive/raw: unexpected error", exc_info=failure.value)
    _finish(request, 500, orjson.dumps({"error": str(failure.value)}))


def status_server(
    reactor: Any, config: HubConfig, *, snapshot: Snapshot, readiness: Readiness
) -> StatusServer:
    """The status endpoint of ``config``: with the page (``/``: `hub.observe.page`), and with
    ``/archive/raw`` when ``status.archive_raw`` names an archive consumer (then the one whose
    database it reads)."""
    extras: dict[bytes, Extra] = StatusPage(snapshot, Path(config.state_dir)).extras()
    name = config.status.archive_raw
    if name is not None:
        extras[b"archive"] = ArchiveRaw(reactor, archives(config)[name])
    return StatusServer(
        reactor, config.status, snapshot=snapshot, readiness=readiness, extras=extras
    )
