"""hub.signatures.gate: batches checked on their own thread come back in order, the refused
counted and left out; input is held while too many wait, and the stop waits for the rest."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from hub.message import Message
from hub.signatures.gate import Pair, SignatureGate
from hub.signatures.x509 import Refused
from tests.fakes import Input


class Reactor:
    """callFromThread queued; the test thread runs what comes back, as the reactor would."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()

    def callFromThread(self, f: Callable[..., Any], *args: Any) -> None:
        self.calls.put((f, args))

    def run_next(self) -> None:
        f, args = self.calls.get(timeout=10)
        f(*args)


class Verifier:
    """Refuses odd numbers; waits for ``release`` before each check while ``gated``."""

    def __init__(self) -> None:
        self.release = threading.Semaphore(0)
        self.gated = False

    def check(self, envelope: dict[str, Any]) -> str:
        if self.gated:
            self.release.acquire()
        if envelope["msg"] % 2:
            raise Refused("not_allowed", "odd", "host")
        return "host"


def pairs(*numbers: int) -> list[Pair]:
    return [([b"t", b"{}"], Message("t", {"msg": n, "msg_id": str(n)})) for n in numbers]


def test_batches_come_back_in_order_without_the_refused() -> None:
    """Two batches: each comes back to the reactor in order, odd ones counted as not_allowed."""
    reactor, routed = Reactor(), []
    gate = SignatureGate(reactor=reactor, verifier=Verifier(), hold=Input(),  # type: ignore[arg-type]
                         on_failure=print, max_pending=100)  # fmt: skip
    gate.start()
    gate.submit(pairs(1, 2, 3, 4), lambda ok: routed.append([m.body for _, m in ok]))
    gate.submit(pairs(6, 7), lambda ok: routed.append([m.body for _, m in ok]))
    reactor.run_next()
    reactor.run_next()
    assert routed == [[2, 4], [6]]
    assert gate.figures() == {"signatures_checked": 6, "signatures_refused": {"not_allowed": 3}}
    gate.stop()


def test_input_is_held_while_too_many_wait_and_the_stop_waits_for_them() -> None:
    """Past max_pending input pauses; it resumes at half; settled() fires when all are back."""
    reactor, hold, verifier = Reactor(), Input(), Verifier()
    verifier.gated = True
    gate = SignatureGate(reactor=reactor, verifier=verifier, hold=hold,  # type: ignore[arg-type]
                         on_failure=print, max_pending=3)  # fmt: skip
    gate.start()
    gate.submit(pairs(2, 4, 6, 8), lambda ok: None)
    gate.submit(pairs(10), lambda ok: None)
    assert hold.events == ["pause"] and gate.pending == 5
    settled = gate.settled()
    for _ in range(5):
        verifier.release.release()
    reactor.run_next()
    assert hold.events == ["pause", "resume"] and not settled.called
    reactor.run_next()
    assert settled.called and gate.pending == 0
    gate.stop()
