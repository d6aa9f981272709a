"""Delivering one message to a consumer: attempts, retries with backoff, dead letters.

Runs on the consumer's worker threads (one `Delivery` per consumer, shared by its threads;
each thread uses its own ``index`` slot of ``retrying``). ``stopping`` is set by the reactor on
shutdown and cuts a retry wait short: the message is then left unfinished, so the next start
delivers it again.

Outcome kinds: done, dropped (``hub.Drop``), halted (``hub.Halt``), failed (dead-lettered after
``retry.max_attempts`` attempts), interrupted (shutdown during a retry wait). A message whose
``consume()`` killed the worker thread ``max_attempts`` times is dead-lettered too.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson

from hub.config import RetryConfig
from hub.deadletters import DeadLetterStore
from hub.errors import Drop, Halt, Retry
from hub.message import Message
from hub.retry import RetryState, delay_after
from hub.workqueue import Item

log = logging.getLogger(__name__)


class Outcome(NamedTuple):
    """What became of one message: ``kind`` is done, failed, dropped, halted or interrupted.

    A NamedTuple, not a frozen dataclass: one is built per delivery, in a third of the time
    (docs/benchmarks.md). So is `hub.worker.Busy`.
    """

    kind: str
    wait_s: float
    duration_s: float
    latency_s: float | None
    seq: int = -1
    attempts: int = 1


class Delivery:
    """Runs ``consume()`` for one message until it has a final outcome."""

    def __init__(
        self,
        name: str,
        consume: Callable[[Message], None],
        config: RetryConfig,
        dead_letters: DeadLetterStore,
    ) -> None:
        self.name = name
        self.consume = consume
        self.config = config
        self.dead_letters = dead_letters
        self.stopping = threading.Event()
        self.retrying: list[RetryState | None] = []
        self.deaths: Counter[int] = Counter()  # seq -> times it killed a worker thread

    def deliver(self, index: int, item: Item, busy: list[Any]) -> Outcome:
        """Attempt ``item`` until done, dropped, halted, dead-lettered or interrupted."""
        message, start = item.message, time.monotonic()
        attempt = self.deaths.get(item.seq, 0)
        kind, error, trace = "failed", "killed the worker thread", ""
        while attempt < self.config.max_attempts:
            attempt += 1
            kind, error, trace, requested = self._attempt(item)
            if kind not in ("retry", "error"):
                break
            if attempt >= self.config.max_attempts:
                break
            if not self._wait(index, message, attempt, error, requested, busy):
                kind = "interrupted"
                break
        if kind in ("retry", "error", "failed"):
            kind = "failed"
            self._dead_letter(message, error, trace, attempt)
        self.deaths.pop(item.seq, None)
        end = time.monotonic()
        sent = message.timestamp
        latency = time.time() - sent if sent is not None else None
        return Outcome(kind, start - item.enqueued_at, end - start, latency, item.seq, attempt)

    def _attempt(self, item: Item) -> tuple[str, str, str, float | None]:
        """One consume() call: (kind, error, traceback, requested delay)."""
        message = item.message
        try:
            self.consume(message)
        except Drop as exc:
            log.info("consumer %s dropped %s (msg_id %s): %s", self.name, message.topic,
                     message.log_id, exc.reason)  # fmt: skip
            return "dropped", "", "", None
        except Halt as exc:
            log.warning("consumer %s halted on %s (msg_id %s): %s", self.name, message.topic,
                        message.log_id, exc.reason)  # fmt: skip
            return "halted", "", "", None
        except Retry as exc:
            return "retry", f"Retry: {exc}", "", exc.delay
        except Exception as exc:
            return "error", repr(exc), traceback.format_exc(), None
        except BaseException:
            self.deaths[item.seq] += 1
            raise
        return "done", "", "", None

    def _wait(self, index: int, message: Message, attempt: int, error: str,
              requested: float | None, busy: list[Any]) -> bool:  # fmt: skip
        """Sleep until the next attempt; False when shutdown cut the wait short."""
        delay = delay_after(self.config, attempt, requested)
        log.warning("consumer %s: attempt %d/%d on %s (msg_id %s) failed: %s; next in %.2f s",
                    self.name, attempt, self.config.max_attempts, message.topic,
                    message.log_id, error, delay)  # fmt: skip
        state = RetryState(message.log_id, message.topic, attempt, time.time() + delay, error)
        saved, busy[index] = busy[index], None
        self.retrying[index] = state
        try:
            return not self.stopping.wait(delay)
        finally:
            self.retrying[index] = None
            busy[index] = saved._replace(since=time.time()) if saved is not None else None

    def _dead_letter(self, message: Message, error: str, trace: str, attempts: int) -> None:
        log.error("consumer %s: %s (msg_id %s) failed %d time(s), last with %s; moved to the "
                  "dead letters", self.name, message.topic, message.log_id, attempts,
                  error)  # fmt: skip
        try:
            envelope = orjson.dumps(message.envelope)
            self.dead_letters.add(self.name, message.topic, message.msg_id, envelope, error,
                                  trace, attempts)  # fmt: skip
        except (sqlite3.Error, TypeError) as exc:
            log.error("consumer %s: cannot store dead letter %s (msg_id %s): %s", self.name,
                      message.topic, message.log_id, exc)  # fmt: skip
