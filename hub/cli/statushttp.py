"""A blocking GET of the hub's status endpoint, over TCP or its unix socket, with a bearer token.

Runs on the main thread of a short-lived command (``status``, ``top``; no reactor). A URL is
``http://host:port/path``, or ``unix:/path/to/socket`` (then the path asked for is /status, or
what follows ``:/`` after the socket: ``unix:/run/consumer-hub/status.sock:/metrics``): urllib
cannot speak HTTP over a unix socket, so `UnixConnection` is http.client's, connected to one.
"""

from __future__ import annotations

import http.client
import socket
import urllib.parse
from pathlib import Path

from hub.errors import ConfigError, EndpointError


class UnixConnection(http.client.HTTPConnection):
    """HTTP over the unix socket ``path``."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def read_token(path: str) -> str:
    """The token in the file ``path``; `ConfigError` (exit code 3) if it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"token file {path}: {exc}") from None


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    if url.startswith("unix:"):
        sock, _, path = url[len("unix:") :].partition(":/")
        return UnixConnection(sock, timeout), "/" + (path or "status")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise EndpointError(f"{url}: not an http:// nor a unix: URL")
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    return conn, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def get(url: str, timeout: float, token: str | None = None) -> tuple[int, bytes]:
    """GET ``url`` (with ``Authorization: Bearer <token>`` if given): the status and the body;
    `EndpointError` when it cannot be reached."""
    conn, path = _connection(url, timeout)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise EndpointError(f"cannot read hub status at {url}: {exc}") from None
    finally:
        conn.close()
