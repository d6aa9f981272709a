"""The hub's security controls as one part of the service: CURVE on the ZeroMQ sockets
(`hub.transports.zeromq.curve`), the signature checker and the signer (`hub.signatures`), and
what a reload re-reads for them.

Runs on the reactor thread: built with the service (reading every key, certificate, CA and
CRL file: a `ConfigError` stops start-up with exit code 3), asked by each reload to ``prepare``
(read the new keys, CA and CRL before anything running is touched; one that cannot be read
rejects the reload), and for its ``figures`` by the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import zmq

from hub.config import HubConfig
from hub.signatures.gate import SignatureGate
from hub.signatures.signer import EnvelopeSigner
from hub.signatures.x509 import Verifier
from hub.transports.zeromq.curve import Curve


class Security:
    """CURVE for the sockets, the verifier and signer; the reload and snapshot hooks."""

    def __init__(self, config: HubConfig, reactor: Any, context: zmq.SyncContext) -> None:
        self.curve = Curve(reactor, context, config.zmq.curve)
        crypto = config.crypto
        self.verifier = Verifier(crypto) if crypto.validate_signatures else None
        self.signer = EnvelopeSigner(crypto) if crypto.sign_messages else None

    @property
    def sign(self) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        """What ``hub.publish()`` signs its envelopes with (None: it does not sign)."""
        return self.signer.sign if self.signer is not None else None

    def figures(self) -> dict[str, Any]:
        """Peers refused, by cause (`hub.observe.snapshot`'s hub figures)."""
        return self.curve.figures()

    def prepare(self, config: HubConfig, gate: SignatureGate | None) -> Callable[[], list[str]]:
        """Read what a reload re-reads (may raise ConfigError); the function returned applies
        it and says what changed. The CA, CRL and routing policy change live while signatures
        stay checked; turning the check on or off needs a restart."""
        rekey = self.curve.prepare(config.zmq.curve)
        validate = config.crypto.validate_signatures and gate is not None
        verifier = Verifier(config.crypto) if validate else None

        def apply() -> list[str]:
            said = rekey()
            if gate is not None and verifier is not None:
                gate.verifier = self.verifier = verifier
                said.append("signatures: CA, CRL and routing_policy read again")
            return said

        return apply

    def stop(self) -> None:
        self.curve.stop()
