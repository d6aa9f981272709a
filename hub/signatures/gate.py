"""The signature check between decoding and routing, on its own thread: each message once,
whatever the number of consumers, in arrival order; the refused never reach the log.

``submit`` and everything counted run on the reactor thread; the checks run on the
``signatures`` thread (one: the order of batches is kept, and ``callFromThread`` keeps it on
the way back). A check costs tens of microseconds (docs/security.md): a batch of them on the
reactor would hold up every other socket and timer, so the reactor only hands batches over and
routes what comes back. While more than ``max_pending`` messages wait, input is paused (its
own reason, `hub.routing.holds`); it resumes at half. A refused message is counted by cause and
logged with its topic, msg_id and signer, one line per cause per ``LOG_EVERY_S`` at most (the
next says how many were not logged).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from hub.message import Message
from hub.routing.holds import Pausable
from hub.signatures.x509 import Refused, Verifier

log = logging.getLogger(__name__)

Pair = tuple[list[bytes], Message]  # the raw frames (for the log) and the decoded message
Done = Callable[[list[Pair]], None]
LOG_EVERY_S = 10.0


class SignatureGate:
    """Checks batches on the ``signatures`` thread; hands the accepted back to the reactor."""

    def __init__(
        self,
        *,
        reactor: Any,
        verifier: Verifier,
        hold: Pausable,
        on_failure: Callable[[Exception], None],
        max_pending: int,
    ) -> None:
        self.reactor = reactor
        self.verifier = verifier  # a reload replaces it: read once per batch by the thread
        self.hold = hold
        self.on_failure = on_failure
        self.max_pending = max_pending
        self.pending = 0  # messages handed over and not back yet (reactor)
        self.checked = 0
        self.refused: Counter[str] = Counter()
        self.holding = False
        self._waiting: list[defer.Deferred[None]] = []
        self._queue: queue.SimpleQueue[tuple[list[Pair], Done] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="signatures", daemon=True)
        self._logged: dict[str, float] = {}  # thread: when each cause was last logged
        self._unlogged: Counter[str] = Counter()

    def start(self) -> None:
        self._thread.start()

    def submit(self, pairs: list[Pair], done: Done) -> None:
        """Check ``pairs``; ``done`` gets the accepted ones, in order, on the reactor."""
        if not pairs:
            return
        self.pending += len(pairs)
        self._queue.put((pairs, done))
        if self.pending > self.max_pending and not self.holding:
            self.holding = True
            self.hold.pause()

    def settled(self) -> defer.Deferred[None]:
        """Fires once nothing handed over is still being checked (the stop waits for it)."""
        if not self.pending:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._waiting.append(waiter)
        return waiter

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def figures(self) -> dict[str, Any]:
        """Messages checked and refused by cause, for the snapshot."""
        return {"signatures_checked": self.checked, "signatures_refused": dict(self.refused)}

    # -- the signatures thread ---------------------------------------------------------------

    def _run(self) -> None:
        while (work := self._queue.get()) is not None:
            pairs, done = work
            verifier = self.verifier
            accepted: list[Pair] = []
            causes: list[str] = []
            for pair in pairs:
                cause = self._check(verifier, pair[1])
                if cause is None:
                    accepted.append(pair)
                else:
                    causes.append(cause)
            self.reactor.callFromThread(self._back, len(pairs), accepted, causes, done)

    def _check(self, verifier: Verifier, message: Message) -> str | None:
        """None when ``message`` passes; else the cause, logged (at most once an interval)."""
        try:
            verifier.check(message.envelope)
            return None
        except Refused as refused:
            self._log(message, refused)
            return refused.cause
        except Exception:  # a defect in a check: refuse, never let it through
            log.exception("signatures: checking msg_id %s on %s failed", message.msg_id,
                          message.topic)  # fmt: skip
            return "error"

    def _log(self, message: Message, refused: Refused) -> None:
        now = time.monotonic()
        cause = refused.cause
        if now - self._logged.get(cause, -LOG_EVERY_S) < LOG_EVERY_S:
            self._unlogged[cause] += 1
            return
        self._logged[cause] = now
        more = self._unlogged.pop(cause, 0)
        log.warning("signatures: refused msg_id %s on %s from %s (%s): %s%s", message.msg_id,
                    message.topic, refused.signer or "(unknown signer)", cause, refused.detail,
                    f"; {more} more not logged" if more else "")  # fmt: skip

    # -- back on the reactor -----------------------------------------------------------------

    def _back(self, count: int, accepted: list[Pair], causes: list[str], done: Done) -> None:
        self.pending -= count
        self.checked += count
        self.refused.update(causes)
        try:
            done(accepted)
        except Exception as error:  # a defect downstream: as the input would report it
            self.on_failure(error)
        if self.holding and self.pending <= self.max_pending // 2:
            self.holding = False
            self.hold.resume()
        if not self.pending:
            waiting, self._waiting = self._waiting, []
            for waiter in waiting:
                waiter.callback(None)
