"""Delivering one message to a consumer: attempts, retries with backoff, dead letters.

Runs on the consumer's worker threads (one `Delivery` per consumer, shared by its threads;
each thread uses its own ``index`` slot of ``retrying`` and of the worker's ``current``).
``stopping`` is set by the reactor on shutdown and cuts a retry wait short: the message is then
left unfinished, so the next start delivers it again.

What becomes of a message is its `Fate`: done, dropped (``hub.Drop``), halted (``hub.Halt``),
failed (dead-lettered after ``retry.max_attempts`` attempts, or at once on ``hub.Reject``),
interrupted (shutdown during a retry wait). A message whose ``consume()`` killed the worker thread
``max_attempts`` times is dead-lettered too. Between attempts an `_Attempt` without a fate
(``hub.Retry`` or an ordinary exception) means "try again"; it never leaves this module.
``hub.Unavailable`` is waited out (`wait_unavailable`) without counting an attempt: the message is
not at fault, so it is never dead-lettered for it.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from enum import StrEnum
from typing import NamedTuple, Protocol

import orjson

from hub.config import RetryConfig
from hub.errors import DeadLetterError, Drop, Halt, Reject, Retry, Unavailable
from hub.message import Message
from hub.observe.journal import log_fields
from hub.workers.retry import RetryState, delay_after
from hub.workers.workqueue import Item

log = logging.getLogger(__name__)

Current = list[tuple[float, Item] | None]  # per worker thread: (time.monotonic() started, item)


class Fate(StrEnum):
    """What became of one message. A `StrEnum`: each member equals (and hashes as) its value,
    so it compares with the plain strings and counts under them (`hub.observe.stats`)."""

    DONE = "done"
    FAILED = "failed"  # dead-lettered
    DROPPED = "dropped"  # hub.Drop
    HALTED = "halted"  # hub.Halt: the consumer stops
    INTERRUPTED = "interrupted"  # shutdown during a retry wait: delivered again next start


class Outcome(NamedTuple):
    """What became of one message (its `Fate`), with its timings.

    Built only off the hot path: a message done on its first attempt is reported in bulk
    (`hub.workers.report.Report`).
    """

    kind: Fate
    wait_s: float
    duration_s: float
    latency_s: float | None
    seq: int = -1
    attempts: int = 1
    finished: bool = False  # HALTED with Halt(requeue=False): this message is finished


class Fresh(Exception):
    """Internal: deliver this message from its first attempt, through `Delivery.deliver` (it
    killed a worker thread before, or the ``consume_batch()`` it was in failed as a whole)."""


class DeadLetter(NamedTuple):
    """A message that ran out of attempts, as the dead letters keep it."""

    consumer: str
    topic: str
    msg_id: str | None
    envelope: bytes  # the envelope as JSON
    error: str
    traceback: str
    attempts: int
    seq: int = -1  # where the message came from: its log position, or its broker delivery


class DeadLetters(Protocol):
    """Where dead letters go: `hub.storage.deadletters.DeadLetterStore` for the ZeroMQ
    transport (a broker transport keeps them on the broker)."""

    def add(self, letter: DeadLetter) -> None:
        """Keep ``letter`` (worker thread); raises `hub.errors.DeadLetterError`."""


class _Attempt(NamedTuple):
    """One ``consume()`` call: its final `Fate`, or None when the message may be tried again
    (``hub.Retry``, with its own ``delay``, or an ordinary exception)."""

    fate: Fate | None
    error: str = ""
    trace: str = ""
    delay: float | None = None
    final: bool = False  # hub.Reject: no more attempts
    finished: bool = False  # hub.Halt(requeue=False): halted, this message finished
    unavailable: bool = False  # hub.Unavailable: wait, then try again; no attempt counted


class Delivery:
    """Runs ``consume()`` for one message until it has a final outcome."""

    def __init__(
        self,
        name: str,
        consume: Callable[[Message], None],
        *,
        config: RetryConfig,
        dead_letters: DeadLetters,
    ) -> None:
        self.name = name
        self.consume = consume
        self.config = config
        self.dead_letters = dead_letters
        self.stopping = threading.Event()
        self.retrying: list[RetryState | None] = []
        self.deaths: Counter[int] = Counter()  # seq -> times it killed a worker thread

    def deliver(self, index: int, item: Item, current: Current) -> Outcome:
        """Attempt ``item`` until done, dropped, halted, dead-lettered or interrupted."""
        return self._attempts(index, item, current, time.monotonic(), None)

    def recover(
        self,
        index: int,
        item: Item,
        current: Current,
        start: float,
        error: BaseException,
    ) -> Outcome:
        """The worker's first ``consume()`` of ``item`` (started at ``start``) raised ``error``:
        classify it, then retry as configured (`Fresh`: attempt it from the start). Re-raises
        what must kill the thread."""
        if isinstance(error, Fresh):
            return self._attempts(index, item, current, time.monotonic(), None)
        return self._attempts(index, item, current, start, error)

    def _attempts(
        self,
        index: int,
        item: Item,
        current: Current,
        start: float,
        first: BaseException | None,
    ) -> Outcome:
        message = item.message
        attempt = self.deaths.get(item.seq, 0)
        tried = _Attempt(None, "killed the worker thread")  # if its deaths used every attempt
        while attempt < self.config.max_attempts:
            attempt += 1
            tried = self._counted_attempt(index, item, current, first)
            first = None
            if tried.fate is not None or tried.final or attempt >= self.config.max_attempts:
                break
            if not self._wait(index, message, attempt, tried, current):
                tried = _Attempt(Fate.INTERRUPTED)
                break
        fate = tried.fate
        if fate is None:  # every attempt failed
            fate = Fate.FAILED
            self._dead_letter(item, tried.error, tried.trace, attempt)
        self.deaths.pop(item.seq, None)
        end = time.monotonic()
        sent = message.timestamp
        latency = time.time() - sent if sent is not None else None
        return Outcome(fate, start - item.enqueued_at, end - start, latency, item.seq, attempt,
                       tried.finished)  # fmt: skip

    def _counted_attempt(
        self, index: int, item: Item, current: Current, first: BaseException | None
    ) -> _Attempt:
        """One attempt that counts: ``hub.Unavailable`` is waited out first, as often as it
        takes (an INTERRUPTED attempt when shutdown cuts a wait short)."""
        outages = 0
        while True:
            tried = self._attempt(item) if first is None else self._classify(item, first)
            first = None
            if not tried.unavailable:
                return tried
            outages += 1
            if not self._wait(index, item.message, outages, tried, current):
                return _Attempt(Fate.INTERRUPTED)

    def wait_unavailable(
        self, index: int, message: Message, outages: int, error: Unavailable, current: Current
    ) -> bool:
        """Wait out outage number ``outages`` (1-based) of what ``message``'s consumer needs
        (a ``consume_batch()`` raised ``error``); False when shutdown cut the wait short."""
        tried = _Attempt(None, f"Unavailable: {error.reason}", "", error.delay, unavailable=True)
        return self._wait(index, message, outages, tried, current)

    def _about(self, message: Message) -> dict[str, str]:
        """The journal fields of a log line about ``message`` (`hub.observe.journal`)."""
        return log_fields(self.name, message.topic, message.log_id)

    def _attempt(self, item: Item) -> _Attempt:
        """One consume() call."""
        try:
            self.consume(item.message)
        except BaseException as exc:
            return self._classify(item, exc)
        return _Attempt(Fate.DONE)

    def _classify(self, item: Item, exc: BaseException) -> _Attempt:
        """What ``consume()`` raising ``exc`` means; re-raises what must kill the thread."""
        message = item.message
        if isinstance(exc, Drop):
            log.info("consumer %s dropped %s (msg_id %s): %s", self.name, message.topic,
                     message.log_id, exc.reason, extra=self._about(message))  # fmt: skip
            return _Attempt(Fate.DROPPED)
        if isinstance(exc, Halt):
            log.warning("consumer %s halted on %s (msg_id %s): %s", self.name, message.topic,
                        message.log_id, exc.reason, extra=self._about(message))  # fmt: skip
            return _Attempt(Fate.HALTED, finished=not exc.requeue)
        if isinstance(exc, Retry):
            return _Attempt(None, f"Retry: {exc}", "", exc.delay)
        if isinstance(exc, Reject):
            return _Attempt(None, f"Reject: {exc.reason}", "", final=True)
        if isinstance(exc, Unavailable):
            return _Attempt(None, f"Unavailable: {exc.reason}", "", exc.delay, unavailable=True)
        if isinstance(exc, Exception):
            return _Attempt(None, repr(exc), "".join(traceback.format_exception(exc)))
        self.deaths[item.seq] += 1
        raise exc

    def _wait(self, index: int, message: Message, attempt: int, tried: _Attempt,
              current: Current) -> bool:  # fmt: skip
        """Sleep until the next attempt; False when shutdown cut the wait short. ``attempt``
        counts outages instead when ``tried`` was `Unavailable` (the backoff grows the same)."""
        delay = delay_after(self.config, attempt, tried.delay)
        if tried.unavailable:
            log.warning("consumer %s: %s on %s (msg_id %s), outage %d; next try in %.2f s (no "
                        "attempt counted)", self.name, tried.error, message.topic, message.log_id,
                        attempt, delay, extra=self._about(message))  # fmt: skip
        else:
            log.warning("consumer %s: attempt %d/%d on %s (msg_id %s) failed: %s; next in %.2f s",
                        self.name, attempt, self.config.max_attempts, message.topic,
                        message.log_id, tried.error, delay, extra=self._about(message))  # fmt: skip
        state = RetryState(msg_id=message.log_id, topic=message.topic, attempt=attempt,
                           next_at=time.time() + delay, error=tried.error,
                           unavailable=tried.unavailable)  # fmt: skip
        saved, current[index] = current[index], None
        self.retrying[index] = state
        try:
            return not self.stopping.wait(delay)
        finally:
            self.retrying[index] = None
            current[index] = (time.monotonic(), saved[1]) if saved is not None else None

    def _dead_letter(self, item: Item, error: str, trace: str, attempts: int) -> None:
        message = item.message
        log.error("consumer %s: %s (msg_id %s) failed %d time(s), last with %s; moved to the "
                  "dead letters", self.name, message.topic, message.log_id, attempts,
                  error, extra=self._about(message))  # fmt: skip
        try:
            envelope = orjson.dumps(message.envelope)
            letter = DeadLetter(
                self.name,
                message.topic,
                message.msg_id,
                envelope,
                error,
                trace,
                attempts,
                item.seq,
            )
            self.dead_letters.add(letter)
        except (DeadLetterError, TypeError) as exc:
            log.error("consumer %s: cannot store dead letter %s (msg_id %s): %s", self.name,
                      message.topic, message.log_id, exc, extra=self._about(message))  # fmt: skip
