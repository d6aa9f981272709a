"""The seams of a consumer's worker threads: what they take messages from (`Source`) and what
they say about themselves (`LifeEvent`, through an `EventSink`).

`Source.take` runs on the consumer's worker threads, ``on_disk`` on the reactor; an `EventSink` is
called on the worker threads (the service hands the event on to the reactor).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Protocol

from hub.workers.workqueue import Item, WorkQueue


class LifeEvent(Enum):
    """What a consumer's threads report about themselves (`hub.workers.life.ConsumerLife` reads
    it)."""

    STARTED = "started"  # setup() returned (or raised: the error comes along)
    HALTED = "halted"  # consume() raised hub.Halt
    DIED = "died"  # a thread died (its index comes along); the supervisor restarts it
    STOPPED = "stopped"  # the last thread exited (after teardown())


# (event, thread index, error), called on the worker thread
EventSink = Callable[[LifeEvent, int, BaseException | None], None]


class Source(Protocol):
    """Where a consumer's threads take messages from: the seam a transport provides
    (`hub.transports.base`); the ZeroMQ transport's is a `hub.storage.spool.Spool`. Finishing a
    message goes through ``queue.finish`` (the ZeroMQ spool's cursor follows it)."""

    @property
    def queue(self) -> WorkQueue:
        """The in-memory window."""

    def take(self, limit: int) -> list[Item]:
        """Up to ``limit`` messages, blocking until there is one; [] once stopped (worker)."""

    def on_disk(self, log_end: int) -> int:
        """How many of this consumer's messages wait outside memory (reactor)."""
