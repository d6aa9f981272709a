"""hub.observe.auth: the token file's checks, the guard in front of the status pages (401 with
WWW-Authenticate: Bearer unless the token is right; /live and /ready open), the unix socket."""

from __future__ import annotations

import grp
import os
import socket
from pathlib import Path

import pytest
from twisted.internet.testing import MemoryReactor
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.test.requesthelper import DummyRequest

from hub.config import StatusConfig
from hub.observe.auth import Guard, UnsafeTokenFile, listen_unix, read_token
from hub.observe.status import StatusServer


def _token_file(tmp_path: Path, mode: int = 0o600, text: str = "s3cret\n") -> str:
    path = tmp_path / "token"
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def _get(root: Resource, name: bytes, authorization: bytes | None = None) -> DummyRequest:
    request = DummyRequest([name])
    if authorization is not None:
        request.requestHeaders.setRawHeaders(b"authorization", [authorization])
    child = root.getChildWithDefault(name, request)
    body = child.render(request)
    request.written.append(body)
    return request


def _server(config: StatusConfig) -> tuple[StatusServer, MemoryReactor]:
    reactor = MemoryReactor()
    server = StatusServer(reactor, config, snapshot=lambda: {"consumers": {}}, readiness=list)
    return server, reactor


def test_the_token_is_read_without_surrounding_white_space(tmp_path: Path) -> None:
    """A 0600 file's token, its trailing newline dropped; 0640 is allowed too."""
    assert read_token(_token_file(tmp_path)) == b"s3cret"
    assert read_token(_token_file(tmp_path, 0o640)) == b"s3cret"


@pytest.mark.parametrize(("mode", "text", "says"), [
    (0o604, "s3cret", "readable by others"), (0o600, " \n", "is empty"),
])  # fmt: skip
def test_an_unsafe_or_empty_token_file_is_refused(
    tmp_path: Path, mode: int, text: str, says: str
) -> None:
    """Readable by others, or empty: UnsafeTokenFile (exit code 3) naming the file."""
    path = _token_file(tmp_path, mode, text)
    with pytest.raises(UnsafeTokenFile, match=says) as caught:
        read_token(path)
    assert path in str(caught.value) and caught.value.exit_code == 3


def test_a_missing_token_file_is_refused(tmp_path: Path) -> None:
    """No such file: UnsafeTokenFile naming it."""
    with pytest.raises(UnsafeTokenFile, match="No such file"):
        read_token(str(tmp_path / "absent"))


@pytest.mark.parametrize("authorization", [None, b"Bearer wrong", b"Basic czNjcmV0", b"s3cret"])
def test_without_the_right_token_the_status_is_401(authorization: bytes | None) -> None:
    """No header, a wrong token or another scheme: 401 with WWW-Authenticate: Bearer."""
    inner = Resource()
    inner.putChild(b"status", Resource())
    request = _get(Guard(inner, b"s3cret"), b"status", authorization)
    assert request.responseCode == 401
    assert request.responseHeaders.getRawHeaders(b"www-authenticate") == [
        b'Bearer realm="consumer-hub"'
    ]


def test_the_right_token_reaches_the_page_and_live_ready_stay_open(tmp_path: Path) -> None:
    """Bearer <token> is served; /live and /ready answer without any token."""
    config = StatusConfig(port=0, token_file=_token_file(tmp_path))
    server, reactor = _server(config)
    server.start()
    root = reactor.tcpServers[0][1].resource
    assert isinstance(root, Guard)
    request = _get(root, b"status", b"Bearer s3cret")
    assert request.responseCode in (None, 200) and b"consumers" in b"".join(request.written)
    for name in (b"live", b"ready"):
        assert _get(root, name).responseCode in (None, 200)
    assert _get(root, b"status", b"bearer s3cret").responseCode in (None, 200)


def test_an_unsafe_token_file_stops_the_start(tmp_path: Path) -> None:
    """The status server refuses to start (nothing listens) with a token file others read."""
    server, reactor = _server(StatusConfig(token_file=_token_file(tmp_path, 0o644)))
    with pytest.raises(UnsafeTokenFile):
        server.start()
    assert reactor.tcpServers == []


def test_with_a_socket_the_server_listens_there_not_on_tcp(tmp_path: Path) -> None:
    """status.socket: listenUNIX with the mode, no TCP port; start() returns 0."""
    path = str(tmp_path / "status.sock")
    server, reactor = _server(StatusConfig(socket=path, socket_mode="0600"))
    assert server.start() == 0
    assert reactor.tcpServers == [] and reactor.unixServers[0][0] == path
    assert reactor.unixServers[0][3] == 0o600


def test_a_stale_socket_is_removed_and_the_mode_and_group_set(tmp_path: Path) -> None:
    """A socket file left behind is replaced; the new one has the mode and group asked for."""
    from twisted.internet import reactor

    path = str(tmp_path / "status.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()
    group = grp.getgrgid(os.getegid()).gr_name
    port = listen_unix(reactor, Site(Resource()), path, "0640", group)
    try:
        info = os.stat(path)
        assert info.st_mode & 0o777 == 0o640 and info.st_gid == os.getegid()
    finally:
        port.stopListening()
