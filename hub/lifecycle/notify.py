"""sd_notify: tell the service manager (systemd) how the hub is doing.

Thread: reactor. `Notifier` and `WatchdogPinger` are not locked; the service calls them from
the reactor thread only (and from the main thread before the reactor runs). The watchdog ping is
a `LoopingCall` on the reactor on purpose: a wedged reactor stops pinging and systemd restarts it.

Why our own implementation: the protocol is one datagram of ``KEY=VALUE`` lines on an AF_UNIX
socket named by ``$NOTIFY_SOCKET``. The pure-Python ``sdnotify`` package (last release 2017) sends
on a blocking socket, swallows every error silently, and has no watchdog-interval or
``MONOTONIC_USEC`` helpers; ``systemd-python`` and ``cysystemd`` need libsystemd headers and a
compiler at install time, a lot of build surface for one ``sendto()``. Ours is small, tested
against real sockets, non-blocking (a full notification queue must never stall the reactor),
never raises, and logs the first send failure once.

The protocol (sd_notify(3)): ``$NOTIFY_SOCKET`` is a filesystem path, or an abstract-namespace
name when it starts with ``@``. Unset means "not run by a service manager": every call is a
no-op. ``$WATCHDOG_USEC`` (and ``$WATCHDOG_PID``, if set, must be our pid) give the watchdog
interval; we ping every half of it, as sd_watchdog_enabled(3) advises.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

from hub.lifecycle.timers import Every

log = logging.getLogger(__name__)


class NotifyError(Exception):
    """``$NOTIFY_SOCKET`` names an address this implementation cannot use."""


def socket_address(value: str) -> str | bytes:
    """Turn a ``$NOTIFY_SOCKET`` value into an address for ``socket.sendto``."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    raise NotifyError(f"unsupported NOTIFY_SOCKET {value!r} (want an absolute path or @name)")


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, the clock systemd reads ``MONOTONIC_USEC=`` against."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """The watchdog interval in seconds from ``$WATCHDOG_USEC``, or None if not for us."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = env.get("WATCHDOG_PID")
    try:
        if pid and int(pid) != os.getpid():
            return None
        value = int(usec)
    except ValueError:
        log.warning("ignoring malformed WATCHDOG_USEC=%r / WATCHDOG_PID=%r", usec, pid)
        return None
    return value / 1_000_000 if value > 0 else None


def _clean(text: str) -> str:
    """One line: a STATUS= value must not contain a newline."""
    return " ".join(text.split())


class Notifier:
    """Sends sd_notify datagrams; a no-op when ``$NOTIFY_SOCKET`` is unset."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        self._sock: socket.socket | None = None
        self._address: str | bytes | None = None
        self._failed_once = False
        self.sent = 0

    @property
    def enabled(self) -> bool:
        """True when a notification socket is configured and open."""
        return self._sock is not None

    def start(self) -> None:
        """Open the datagram socket if ``$NOTIFY_SOCKET`` is set."""
        env = os.environ if self._environ is None else self._environ
        value = env.get("NOTIFY_SOCKET", "")
        if not value or self._sock is not None:
            return
        try:
            self._address = socket_address(value)
        except NotifyError as err:
            log.warning("sd_notify disabled: %s", err)
            return
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._sock.setblocking(False)
        log.debug("sd_notify to %s", value)

    def stop(self) -> None:
        """Close the socket; later calls are no-ops."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=VALUE`` fields in one datagram; True if it was sent. Never raises."""
        if self._sock is None or self._address is None:
            return False
        payload = "\n".join(fields).encode()
        try:
            self._sock.sendto(payload, self._address)
        except OSError as err:
            if not self._failed_once:
                self._failed_once = True
                log.warning("sd_notify send failed (logged once): %s", err)
            else:
                log.debug("sd_notify send failed: %s", err)
            return False
        self.sent += 1
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1``: start-up (or a reload) is complete."""
        fields = ["READY=1"]
        if status:
            fields.append(f"STATUS={_clean(status)}")
        return self.send(*fields)

    def status(self, text: str) -> bool:
        """``STATUS=``: a one-line summary shown by ``systemctl status``."""
        return self.send(f"STATUS={_clean(text)}")

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: the reactor is alive."""
        return self.send("WATCHDOG=1")

    def reloading(self, status: str | None = None) -> bool:
        """``RELOADING=1`` with ``MONOTONIC_USEC=`` (systemd 253+ requires it for notify-reload)."""
        fields = ["RELOADING=1", f"MONOTONIC_USEC={monotonic_usec()}"]
        if status:
            fields.append(f"STATUS={_clean(status)}")
        return self.send(*fields)

    def stopping(self, status: str | None = None) -> bool:
        """``STOPPING=1``: shutdown has begun."""
        fields = ["STOPPING=1"]
        if status:
            fields.append(f"STATUS={_clean(status)}")
        return self.send(*fields)


class WatchdogPinger:
    """Sends ``WATCHDOG=1`` every half watchdog interval from the reactor."""

    def __init__(self, notifier: Notifier, interval: float | None, clock: Any) -> None:
        self._notifier = notifier
        self._interval = interval
        self._clock = clock
        self._loop: Every | None = None

    @property
    def period(self) -> float | None:
        """Seconds between pings, or None when the watchdog is off."""
        return None if self._interval is None else self._interval / 2

    def start(self) -> None:
        """Start pinging (first ping now) if the watchdog is on and notify is enabled."""
        period = self.period
        if period is None or not self._notifier.enabled or self._loop is not None:
            return
        self._loop = Every(period, self._notifier.watchdog, clock=self._clock)
        self._loop.startService()
        log.info("systemd watchdog on: pinging every %.3fs", period)

    def stop(self) -> None:
        """Stop pinging."""
        if self._loop is not None and self._loop.running:
            self._loop.stopService()
        self._loop = None
