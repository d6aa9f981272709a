"""What the ZeroMQ input's batches go through: decode, the signature check, the log and the
consumers' spools.

Runs on the reactor thread. Without ``crypto.validate_signatures`` a batch goes straight
through the enqueuer (`hub.routing.enqueuer`), decoded and routed in one go. With it, the
decoded messages are handed to `hub.signatures.gate.SignatureGate` (its own thread) and routed
when they come back, the refused ones left out; the gate pauses input while too many wait. The
enqueuer and the gate each hold the input paused for their own reason (`hub.routing.holds`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from hub.config import HubConfig
from hub.observe.stats import Stats
from hub.routing.badinput import BadInputLog
from hub.routing.enqueuer import Batch, Enqueuer
from hub.routing.holds import Holds
from hub.routing.router import Router
from hub.signatures.gate import SignatureGate
from hub.signatures.x509 import Verifier
from hub.storage.durable import Durable
from hub.transports.zeromq.codec import limited_decode
from hub.transports.zeromq.gaps import GapTracker
from hub.transports.zeromq.input import ZmqInput

PENDING_BATCHES = 8  # the gate pauses input past this many input batches waiting


class Intake:
    """The enqueuer, and the signature gate in front of it when signatures are checked."""

    def __init__(  # noqa: PLR0913 - keyword-only narrow parts, wired by the service
        self,
        config: HubConfig,
        reactor: Any,
        *,
        router: Router,
        durable: Durable,
        stats: Stats,
        input: ZmqInput,
        verifier: Verifier | None,
        on_failure: Callable[[Exception], None],
    ) -> None:
        holds = Holds(input)
        gaps = GapTracker(stats, lambda: input.subscribed)
        self.enqueuer = Enqueuer(
            router=router,
            decode=limited_decode(config),
            log=durable.store,
            stats=stats,
            bad_input=BadInputLog(reactor.seconds),
            input=holds.holder("disk"),
            max_message_bytes=config.max_message_bytes,
            max_disk_bytes=durable.max_disk_bytes,
            observe=gaps.observe if config.upstream_gaps else None,
        )
        self.gate = None
        if verifier is not None:
            self.gate = SignatureGate(
                reactor=reactor, verifier=verifier, hold=holds.holder("signatures"),
                on_failure=on_failure, max_pending=PENDING_BATCHES * config.zmq.batch_size,
            )  # fmt: skip
            self.gate.start()

    def on_batch(self, batch: Batch) -> None:
        """A batch of raw messages from the ZeroMQ input."""
        if self.gate is None:
            self.enqueuer.on_batch(batch)
        else:
            self.gate.submit(self.enqueuer.decoded(batch), self.enqueuer.route)

    def settled(self) -> defer.Deferred[None]:
        """Fires once every message handed to the gate is back and routed (input stopped)."""
        return self.gate.settled() if self.gate is not None else defer.succeed(None)

    def figures(self) -> dict[str, Any]:
        """The gate's counts (zero without one: every exported row is in every snapshot)."""
        if self.gate is None:
            return {"signatures_checked": 0, "signatures_refused": {}}
        return self.gate.figures()

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.stop()
