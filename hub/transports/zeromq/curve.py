"""CURVE on the hub's ZeroMQ sockets: the keys, pyzmq's ZAP authenticator on the reactor, and
the peers refused, counted.

Runs on the reactor thread: keys are read at start-up and on reload (``prepare``, before
anything running is touched); the ZAP handler is an ``IReadDescriptor`` on the reactor, so each
handshake's "may this key in?" is answered there, by pyzmq's own `zmq.auth.Authenticator`
(the hub only supplies, per socket, the set of public keys allowed). A socket with CURVE is a
CURVE server with the hub's key pair and its own ZAP domain (``sub``, ``pub``); peers without
CURVE, with a wrong idea of the hub's public key, or with a key not allowed, never complete the
handshake. The socket monitor (`hub.transports.zeromq.input.ConnectionMonitor`) reports each
failed handshake to `Curve.refused`: counted as ``<socket>_<why>`` (``unknown_key`` when ZAP
said no, ``handshake`` when the handshake itself failed). Keys are z85 text in ZeroMQ's
certificate files (``consumer-hub keygen``, `hub.cli.keygen`).
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import zmq
import zmq.auth
from twisted.internet import defer
from twisted.internet.interfaces import IReadDescriptor
from zope.interface import implementer

from hub.config import CurveConfig, CurveSocketConfig
from hub.errors import ConfigError

log = logging.getLogger(__name__)

ROLES = ("sub", "pub")
LOG_EVERY_S = 10.0


def read_secret(path: str, where: str) -> tuple[bytes, bytes]:
    """(public, secret) z85 keys of the hub's ``.key_secret`` file; one others can read, or
    without a secret key, is a `ConfigError`."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{where}: cannot read the key pair {path}: {exc}") from None
    if secret is None:
        raise ConfigError(f"{where}: {path} holds no secret key (a .key_secret file)")
    if mode & 0o077:
        raise ConfigError(f"{where}: {path} is readable by others (mode {mode:04o}): chmod 0600")
    return public, secret


def read_allowed(paths: Iterable[str], where: str) -> frozenset[bytes]:
    """The public keys of every ``*.key`` file named, or found in a directory named."""
    keys: set[bytes] = set()
    for name in paths:
        path = Path(name)
        files = sorted(path.glob("*.key")) if path.is_dir() else [path]
        try:
            keys.update(zmq.auth.load_certificate(f)[0] for f in files)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{where}: cannot read the public key {name}: {exc}") from None
    return frozenset(keys)


class SocketKeys:
    """One socket's keys, read from its `CurveSocketConfig`."""

    def __init__(self, role: str, config: CurveSocketConfig) -> None:
        where = f"zmq.curve.{role}"
        self.config = config
        self.public, self.secret = read_secret(config.secret_key, f"{where}.secret_key")
        self.allowed = read_allowed(config.allow, f"{where}.allow")


class Curve:
    """The keys of both sockets, the ZAP handler, the refusals."""

    def __init__(self, reactor: Any, context: zmq.SyncContext, config: CurveConfig) -> None:
        self.reactor = reactor
        self.context = context
        self.keys = read_keys(config)
        self.refusals: Counter[str] = Counter()
        self.zap: ZapHandler | None = None
        self._logged: dict[str, float] = {}

    def serve(self, sock: zmq.SyncSocket, role: str) -> bool:
        """Make ``sock`` a CURVE server for ``role`` if it has keys (before it binds or
        connects); False when it speaks plain ZeroMQ."""
        keys = self.keys.get(role)
        if keys is None:
            return False
        if self.zap is None:  # before the first CURVE socket: libzmq lets all in without one
            self.zap = ZapHandler(self.reactor, self.context)
            self.zap.start()
        self.zap.allow_keys(role, keys.allowed)
        sock.setsockopt(zmq.ZAP_DOMAIN, role.encode())
        sock.setsockopt(zmq.CURVE_SERVER, 1)
        sock.setsockopt(zmq.CURVE_SECRETKEY, keys.secret)
        sock.setsockopt(zmq.CURVE_PUBLICKEY, keys.public)
        log.info("%s: CURVE on, %d public key(s) allowed", role, len(keys.allowed))
        return True

    def refused(self, role: str, why: str, endpoint: str) -> None:
        """A handshake on ``role``'s socket failed (its monitor, on the reactor)."""
        cause = f"{role}_{why}"
        self.refusals[cause] += 1
        now = time.monotonic()
        if now - self._logged.get(cause, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[cause] = now
            log.warning("%s: a peer on %s was refused (%s; %d so far): no CURVE, the wrong "
                        "server key, or a key not allowed", role, endpoint, why,
                        self.refusals[cause])  # fmt: skip

    def figures(self) -> dict[str, Any]:
        """``curve_refused`` by cause, for the snapshot."""
        return {"curve_refused": dict(self.refusals)}

    def prepare(self, config: CurveConfig) -> Callable[[], list[str]]:
        """A reload: read the new allowed keys (`ConfigError` rejects the reload); the function
        returned applies them and says what changed. A socket's own key pair, and CURVE on or
        off, change only with a restart."""
        new = read_keys(config)

        def apply() -> list[str]:
            said = []
            for role, keys in new.items():
                old = self.keys.get(role)
                if old is None or self.zap is None:
                    continue
                if (old.public, old.secret) != (keys.public, keys.secret):
                    log.warning("zmq.curve.%s: the hub's key pair changed; it takes effect at "
                                "the next restart", role)  # fmt: skip
                if old.allowed != keys.allowed:
                    said.append(f"{role}: {len(keys.allowed)} CURVE key(s) allowed")
                    self.zap.allow_keys(role, keys.allowed)
                    old.allowed = keys.allowed
            return said

        return apply

    def stop(self) -> None:
        if self.zap is not None:
            self.zap.close()
            self.zap = None


def read_keys(config: CurveConfig) -> dict[str, SocketKeys]:
    """Each configured socket's keys, by role."""
    sockets = {"sub": config.sub, "pub": config.pub}
    return {role: SocketKeys(role, c) for role, c in sockets.items() if c is not None}


class _Allowed:
    """pyzmq's credentials provider for one domain: is this z85 key in the set?"""

    def __init__(self, keys: frozenset[bytes]) -> None:
        self.keys = keys

    def callback(self, domain: str, key: bytes) -> bool:
        return key in self.keys


@implementer(IReadDescriptor)
class ZapHandler(zmq.auth.Authenticator):
    """pyzmq's authenticator, its ZAP socket read on the reactor."""

    def __init__(self, reactor: Any, context: zmq.SyncContext) -> None:
        super().__init__(context, log=log)
        self.reactor = reactor

    def start(self) -> None:
        super().start()
        self.reactor.addReader(self)
        self.reactor.callLater(0, self.doRead)  # edge-triggered

    def allow_keys(self, domain: str, keys: frozenset[bytes]) -> None:
        """From now on, exactly ``keys`` get in on ``domain`` (a new set: no lock needed)."""
        provider = self.credentials_providers.get(domain)
        if isinstance(provider, _Allowed):
            provider.keys = keys
        else:
            self.configure_curve_callback(domain, _Allowed(keys))

    def close(self) -> None:
        if self.zap_socket is not None:
            self.reactor.removeReader(self)
        self.stop()

    def fileno(self) -> int:
        return self.zap_socket.getsockopt(zmq.FD) if self.zap_socket is not None else -1  # type: ignore[return-value]

    def doRead(self) -> None:
        while self.zap_socket is not None:
            try:
                request = self.zap_socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            # the provider answers at once, so the coroutine runs to its end right here
            defer.ensureDeferred(self.handle_zap_message(request))

    def connectionLost(self, reason: object) -> None:
        pass

    def logPrefix(self) -> str:
        return "zmq-zap"
