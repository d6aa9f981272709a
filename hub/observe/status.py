"""The HTTP status endpoint: /live, /ready, /status (JSON), and the extra pages it is given.

On ``status.host:port``, or on the unix socket ``status.socket`` instead; behind the bearer
token of ``status.token_file`` when set (all but /live and /ready: `hub.observe.auth`).

Runs on the reactor thread (twisted.web). It only reads: every page is built from the
``snapshot`` callable at request time, so a request never changes a counter. An extra page
(`Extra`, such as `hub.observe.archive_raw`'s ``/archive/raw``) brings its own resource and
is started before the port listens and stopped once it no longer does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import orjson
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from hub.config import StatusConfig
from hub.errors import ConfigError, EndpointError
from hub.observe.auth import Guard, listen_unix, read_token

log = logging.getLogger(__name__)

Snapshot = Callable[[], dict[str, Any]]
Readiness = Callable[[], list[str]]  # the reasons the hub is not ready; [] when ready


class Extra(Protocol):
    """A page with a lifecycle of its own, served under its name in ``extras``."""

    resource: Resource

    def start(self) -> None: ...

    def stop(self) -> None: ...


class _Page(Resource):
    isLeaf = True

    def __init__(self, render: Callable[[Request], bytes]) -> None:
        # Twisted's __init__ is unannotated, and mypy's untyped_calls_exclude (pyproject.toml)
        # does not apply to calls through super()
        super().__init__()  # type: ignore[no-untyped-call]
        self._render = render

    def render_GET(self, request: Request) -> bytes:
        return self._render(request)


class StatusServer:
    """Serves the hub's live figures on ``host:port``."""

    def __init__(
        self, reactor: Any, config: StatusConfig, *, snapshot: Snapshot, readiness: Readiness,
        extras: Mapping[bytes, Extra] | None = None,
    ) -> None:  # fmt: skip
        self.reactor = reactor
        self.config = config
        self.snapshot = snapshot
        self.readiness = readiness
        self.extras = dict(extras or {})
        self.port: Any = None
        self.pages: dict[bytes, Callable[[Request], bytes]] = {
            b"live": self._live,
            b"ready": self._ready,
            b"status": self._status,
        }

    def start(self) -> int:
        """Listen; return the port number actually bound (``port: 0`` picks a free one)."""
        root = Resource()
        for name, render in self.pages.items():
            root.putChild(name, _Page(render))  # type: ignore[arg-type]
        for name, extra in self.extras.items():
            root.putChild(name, extra.resource)  # type: ignore[arg-type]
            extra.start()
        try:
            site = Site(self._guarded(root))
            self.port = self._listen(site)
        except Exception as exc:
            self._stop_extras()
            if isinstance(exc, ConfigError):
                raise
            raise EndpointError(
                f"status endpoint: cannot listen on {self._where()}: {exc}"
            ) from exc
        if self.config.socket is not None:
            log.info("status endpoint listening on unix:%s", self.config.socket)
            return 0
        bound = self.port.getHost().port
        log.info("status endpoint listening on http://%s:%d", self.config.host, bound)
        return int(bound)

    def _guarded(self, root: Resource) -> Resource:
        """``root``, behind the token of ``status.token_file`` when it is set (read now)."""
        if self.config.token_file is None:
            return root
        return Guard(root, read_token(self.config.token_file))

    def _listen(self, site: Site) -> Any:
        config = self.config
        if config.socket is not None:
            return listen_unix(
                self.reactor, site, config.socket, config.socket_mode, config.socket_group
            )
        return self.reactor.listenTCP(config.port, site, interface=config.host)

    def _where(self) -> str:
        if self.config.socket is not None:
            return f"unix:{self.config.socket}"
        return f"{self.config.host}:{self.config.port}"

    def stop(self) -> Any:
        if self.port is not None:
            port, self.port = self.port, None
            stopped = port.stopListening()
            self._stop_extras()
            return stopped
        return None

    def _stop_extras(self) -> None:
        for extra in self.extras.values():
            extra.stop()

    def _live(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/plain")
        return b"ok\n"

    def _ready(self, request: Request) -> bytes:
        reasons = self.readiness()
        request.setHeader(b"content-type", b"text/plain")
        if reasons:
            request.setResponseCode(503)
            return ("not ready: " + "; ".join(reasons) + "\n").encode("utf-8")
        return b"ready\n"

    def _status(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"application/json")
        return orjson.dumps(self.snapshot(), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
