"""hub.observe.archive_raw without a network: who is answered (loopback peers only, else 403),
bad parameters (400 naming them, before any database work), the page's own named thread pool
started and stopped with the status server."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor
from twisted.web.test.requesthelper import DummyRequest

from hub.config import StatusConfig
from hub.observe.archive_raw import THREAD_NAME, ArchiveRaw
from hub.observe.status import StatusServer


def _request(peer: Any, **args: list[bytes]) -> DummyRequest:
    request = DummyRequest([b""])
    request.client = peer
    request.args = {k.encode(): v for k, v in args.items()}
    return request


class NoPool:
    """Stands in for the thread pool: any database work reaching it fails the test."""

    def callInThreadWithCallback(self, *_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the database was asked")


@pytest.fixture
def raw(tmp_path: Any) -> ArchiveRaw:
    page = ArchiveRaw(Clock(), str(tmp_path / "archive.sqlite"), clock=lambda: 1e9)
    page.pool = NoPool()  # type: ignore[assignment]
    return page


@pytest.mark.parametrize("peer", [IPv4Address("TCP", "10.1.2.3", 4000),
                                  IPv4Address("TCP", "192.168.0.9", 4000),
                                  IPv6Address("TCP", "2001:db8::1", 4000), None])  # fmt: skip
def test_a_peer_off_loopback_is_refused(raw: ArchiveRaw, peer: Any) -> None:
    """Not 127.0.0.0/8 nor ::1 (or no address at all): 403 with a JSON reason, no query."""
    request = _request(peer)
    body = raw.render(request)
    assert request.responseCode == 403 and isinstance(body, bytes)
    assert orjson.loads(body) == {"error": "/archive/raw answers loopback clients only"}
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"application/json"]


@pytest.mark.parametrize(("args", "name"), [
    ({"page": [b"0"]}, "page"), ({"order": [b"up"]}, "order"),
    ({"start": [b"soon"]}, "start"), ({"topic": [b"\xff"]}, "topic"),
])  # fmt: skip
def test_bad_parameters_are_400_before_any_query(
    raw: ArchiveRaw, args: dict[str, list[bytes]], name: str
) -> None:
    """A loopback peer with a bad parameter: 400, the parameter named, the database untouched."""
    request = _request(IPv4Address("TCP", "127.0.0.1", 4000), **args)
    body = raw.render(request)
    assert request.responseCode == 400 and isinstance(body, bytes)
    assert orjson.loads(body)["parameter"] == name


def test_a_unix_socket_peer_is_local() -> None:
    """Over status.socket (a UNIXAddress peer): past the loopback check, to the parameters."""
    page = ArchiveRaw(Clock(), "/nonexistent.sqlite", clock=lambda: 1e9)
    page.pool = NoPool()  # type: ignore[assignment]
    request = _request(UNIXAddress(b"/run/consumer-hub/status.sock"), page=[b"0"])
    body = page.render(request)
    assert request.responseCode == 400 and isinstance(body, bytes)


def test_the_pool_is_the_pages_own_and_follows_the_server(tmp_path: Any) -> None:
    """One thread at most, named archive-raw; started with the status server, stopped with it
    (never the reactor's shared pool); the port is a MemoryReactor's."""
    reactor = MemoryReactor()
    page = ArchiveRaw(reactor, str(tmp_path / "a.sqlite"))
    assert (page.pool.name, page.pool.max) == (THREAD_NAME, 1)
    server = StatusServer(reactor, StatusConfig(port=0), snapshot=dict, readiness=list,
                          extras={b"archive": page})  # fmt: skip
    server.start()
    assert page.pool.started and reactor.tcpServers[0][3] == "127.0.0.1"
    server.stop()
    assert not page.pool.started and page.pool.joined
