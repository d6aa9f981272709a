"""hub.lifecycle.notify against real AF_UNIX datagram sockets (filesystem and abstract
namespace)."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.internet import task

from hub.lifecycle import notify
from hub.lifecycle.notify import Notifier, NotifyError, WatchdogPinger


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket in a tmp dir and the NOTIFY_SOCKET value naming it."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()


@pytest.fixture
def abstract_listener() -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket in the abstract namespace and its '@name' NOTIFY_SOCKET value."""
    name = f"consumer-hub-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    yield sock, "@" + name
    sock.close()


def _started(value: str) -> Notifier:
    n = Notifier({"NOTIFY_SOCKET": value})
    n.start()
    return n


def test_ready_reaches_filesystem_socket(listener: tuple[socket.socket, str]) -> None:
    """READY=1 with STATUS arrives as one datagram of KEY=VALUE lines on a path socket."""
    sock, value = listener
    n = _started(value)
    assert n.enabled
    assert n.ready("up, 3 consumers")
    assert sock.recv(4096) == b"READY=1\nSTATUS=up, 3 consumers"
    n.stop()


def test_abstract_namespace_socket(abstract_listener: tuple[socket.socket, str]) -> None:
    """An '@name' NOTIFY_SOCKET is sent to the abstract-namespace address."""
    sock, value = abstract_listener
    n = _started(value)
    assert n.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    n.stop()


def test_every_helper_sends_its_field(listener: tuple[socket.socket, str]) -> None:
    """status, stopping and reloading send the documented fields; reloading adds MONOTONIC_USEC."""
    sock, value = listener
    n = _started(value)
    n.status("12 msg/s\nbacklog 4")
    assert sock.recv(4096) == b"STATUS=12 msg/s backlog 4"
    before = notify.monotonic_usec()
    n.reloading()
    fields = sock.recv(4096).decode().split("\n")
    assert fields[0] == "RELOADING=1"
    key, _, usec = fields[1].partition("=")
    assert key == "MONOTONIC_USEC" and before <= int(usec) <= notify.monotonic_usec()
    n.stopping("draining")
    assert sock.recv(4096) == b"STOPPING=1\nSTATUS=draining"
    assert n.sent == 3
    n.stop()


def test_no_socket_is_a_noop() -> None:
    """Without NOTIFY_SOCKET every call returns False and nothing is opened."""
    n = _started("")
    assert not n.enabled
    assert not n.ready() and not n.watchdog() and not n.stopping()
    n.stop()


def test_send_failure_never_raises_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A socket path nobody listens on: sends return False and one warning is logged."""
    n = _started(str(tmp_path / "nobody.sock"))
    with caplog.at_level(logging.DEBUG, logger="hub.lifecycle.notify"):
        assert not n.ready()
        assert not n.watchdog()
        assert not n.status("x")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    n.stop()


def test_unsupported_address_disables_notify(caplog: pytest.LogCaptureFixture) -> None:
    """A relative NOTIFY_SOCKET is refused with a warning and notify stays off."""
    with pytest.raises(NotifyError):
        notify.socket_address("relative/path")
    n = _started("relative/path")
    assert not n.enabled
    assert any("sd_notify disabled" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}, 2.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    """WATCHDOG_USEC is honoured only when WATCHDOG_PID is unset or ours, and positive."""
    assert notify.watchdog_interval(env) == expected


def test_pinger_sends_every_half_interval(listener: tuple[socket.socket, str]) -> None:
    """The LoopingCall pings at once and then every interval/2 of (fake) reactor time."""
    sock, value = listener
    n = _started(value)
    clock = task.Clock()
    pinger = WatchdogPinger(n, 4.0, clock=clock)
    assert pinger.period == 2.0
    pinger.start()
    clock.advance(1.9)
    clock.advance(0.1)
    clock.advance(2.0)
    pinger.stop()
    clock.advance(10)
    sock.setblocking(False)
    got = []
    deadline = time.monotonic() + 5
    while len(got) < 3 and time.monotonic() < deadline:
        try:
            got.append(sock.recv(64))
        except BlockingIOError:
            time.sleep(0.01)
    assert got == [b"WATCHDOG=1"] * 3
    with pytest.raises(BlockingIOError):
        sock.recv(64)
    n.stop()


def test_pinger_off_without_watchdog(listener: tuple[socket.socket, str]) -> None:
    """No interval means no LoopingCall is scheduled."""
    _, value = listener
    clock = task.Clock()
    pinger = WatchdogPinger(_started(value), None, clock=clock)
    pinger.start()
    assert pinger.period is None and clock.getDelayedCalls() == []
