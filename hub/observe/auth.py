"""The status endpoint's guards: the bearer token and the unix socket it may listen on.

Runs on the reactor thread (twisted.web), except `read_token`, which the status server calls once
as it starts. With ``status.token_file`` set, every page but ``/live`` and ``/ready`` (which
watchdogs and load balancers probe) wants ``Authorization: Bearer <token>``, compared in
constant time; a missing or wrong one is 401 with ``WWW-Authenticate: Bearer``. A token file
others can read is refused (`UnsafeTokenFile`, exit code 3).
"""

from __future__ import annotations

import hmac
import os
import shutil
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

from twisted.web.resource import Resource
from twisted.web.server import Request

from hub.errors import ConfigError

OPEN = frozenset({b"live", b"ready"})


class UnsafeTokenFile(ConfigError):
    """``status.token_file`` is missing, empty, or readable by others (exit code 3)."""


def read_token(path: str) -> bytes:
    """The token in ``path`` (surrounding white space dropped); `UnsafeTokenFile` if unusable."""
    try:
        info = os.stat(path)
        token = Path(path).read_bytes().strip()
    except OSError as exc:
        raise UnsafeTokenFile(f"status.token_file {path}: {exc.strerror}") from None
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o007:
        raise UnsafeTokenFile(f"status.token_file {path} is readable by others (mode {mode:04o}):"
                              " chmod 0600 it (or 0640 for a group of readers)")  # fmt: skip
    if not token:
        raise UnsafeTokenFile(f"status.token_file {path} is empty")
    return token


def authorised(request: Request, token: bytes) -> bool:
    """Whether ``request`` carries ``Authorization: Bearer <token>``."""
    header = request.getHeader(b"authorization") or b""
    scheme, _, given = header.partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), token)


class _Refused(Resource):
    isLeaf = True

    def render(self, request: Request) -> bytes:
        request.setResponseCode(401)
        request.setHeader(b"www-authenticate", b'Bearer realm="consumer-hub"')
        request.setHeader(b"content-type", b"text/plain")
        return b"a bearer token is required\n"


_REFUSED = _Refused()  # type: ignore[no-untyped-call]


class Guard(Resource):
    """The root in front of ``inner``: its children in ``open`` for anyone, the rest with the
    token."""

    def __init__(self, inner: Resource, token: bytes, open: Collection[bytes] = OPEN) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.inner, self.token, self.open = inner, token, open

    def getChildWithDefault(self, path: bytes, request: Request) -> Any:
        if path in self.open or authorised(request, self.token):
            return self.inner.getChildWithDefault(path, request)
        return _REFUSED


def listen_unix(reactor: Any, site: Any, path: str, mode: str, group: str | None) -> Any:
    """Listen on the unix socket ``path`` (a stale one removed first), ``mode``, ``group``."""
    if os.path.exists(path) and stat.S_ISSOCK(os.lstat(path).st_mode):
        os.unlink(path)
    port = reactor.listenUNIX(path, site, mode=int(mode, 8))
    if group is not None:
        shutil.chown(path, group=group)
    return port
