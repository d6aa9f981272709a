"""Batches for a consumer with ``consume_batch()``: fill one, call it, say what became of each.

Runs on the consumer's worker threads: `hub.workers.worker` takes a batch from the window, has
`BatchCall.fill` top it up (to ``batch_size``, waiting at most ``batch_wait_s``), then calls
`BatchCall.call` and settles each message by its result (`Called`).

``consume_batch(messages)`` returns None when every message is done, or one result per message:
None (done) or the exception its ``consume()`` would have raised (``hub.Retry``, ``hub.Drop``,
``hub.Reject``, ``hub.Halt`` or any error). A message with an exception goes down the
per-message path alone (`hub.workers.delivery`): retried through ``consume()``, dropped or
dead-lettered, while the rest of its batch is done. When ``consume_batch()`` raises, its
messages are delivered one at a time (`Fresh`), so one bad message cannot fail its whole batch;
``hub.Unavailable`` instead is waited out for the whole batch (with backoff, no attempt counted)
and the same batch is tried again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from time import monotonic
from typing import NamedTuple

from hub.config import RetryConfig
from hub.consumer import Consumer
from hub.errors import Unavailable
from hub.message import Message
from hub.plugins.loader import LoadedConsumer
from hub.workers.delivery import Current, DeadLetters, Delivery, Fresh
from hub.workers.workqueue import Item, WorkQueue

log = logging.getLogger(__name__)

FILL_POLL_S = 0.005  # how often a filling batch looks at the window again
DEFAULT_BATCH_SIZE = 256

Results = list[BaseException | None]
ConsumeBatch = Callable[[list[Message]], Sequence[BaseException | None] | None]


class Called(NamedTuple):
    """One ``consume_batch()`` call: its batch, a result per message (None: done), and when it
    started and returned (``time.monotonic()``). ``results`` None: shutdown came while an outage
    was waited out, and no message of the batch is finished."""

    batch: list[Item]
    results: Results | None
    start: float
    end: float

    def split(self) -> tuple[list[Item], list[tuple[Item, BaseException]]]:
        """(the messages done, the others with their exception), each in batch order."""
        done, failed = [], []
        for item, result in zip(self.batch, self.results or (), strict=True):
            if result is None:
                done.append(item)
            else:
                failed.append((item, result))
        return done, failed


def batched(instance: Consumer) -> bool:
    """True when ``instance``'s class has its own ``consume_batch()``."""
    return type(instance).consume_batch is not Consumer.consume_batch


def delivery_for(
    consumer: LoadedConsumer, queue: WorkQueue, retry: RetryConfig, dead_letters: DeadLetters
) -> tuple[Delivery, BatchCall | None]:
    """How ``consumer``'s messages are delivered: its `Delivery` (through ``consume()``, or a
    batch of one), and its `BatchCall` when its class has ``consume_batch()``."""
    instance, config = consumer.instance, consumer.config
    if not batched(instance):
        return Delivery(consumer.name, instance.consume, config=retry,
                        dead_letters=dead_letters), None  # fmt: skip
    alone = type(instance).consume is not Consumer.consume
    consume = instance.consume if alone else one_at_a_time(instance.consume_batch)
    delivery = Delivery(consumer.name, consume, config=retry, dead_letters=dead_letters)
    size = min(config.batch_size or DEFAULT_BATCH_SIZE, queue.bound)
    batches = BatchCall(consumer.name, instance.consume_batch, queue=queue, delivery=delivery,
                        size=size, wait_s=config.batch_wait_s)  # fmt: skip
    return delivery, batches


def one_at_a_time(consume_batch: ConsumeBatch) -> Callable[[Message], None]:
    """``consume()`` for a consumer that has only ``consume_batch()``: a batch of one."""

    def consume(message: Message) -> None:
        result = consume_batch([message])
        if result is not None:
            results = list(result)
            if len(results) != 1:
                raise TypeError(f"consume_batch() of 1 message returned {len(results)} results")
            if isinstance(results[0], BaseException):
                raise results[0]

    return consume


class BatchCall:
    """Calls one consumer's ``consume_batch()``; one per consumer, shared by its threads."""

    def __init__(
        self,
        name: str,
        consume_batch: ConsumeBatch,
        *,
        queue: WorkQueue,
        delivery: Delivery,
        size: int,
        wait_s: float,
    ) -> None:
        self.name = name
        self.consume_batch = consume_batch
        self.queue = queue
        self.delivery = delivery  # its outage waits, and its ``stopping``
        self.size = size
        self.wait_s = wait_s

    @property
    def stopping(self) -> threading.Event:
        return self.delivery.stopping

    def fill(self, batch: list[Item]) -> list[Item]:
        """``batch`` topped up from the window to ``size``, waiting at most ``wait_s`` for
        messages to arrive (less when the window is closed: shutdown)."""
        missing = self.size - len(batch)
        if missing <= 0:
            return batch
        deadline = monotonic() + self.wait_s
        queue = self.queue
        while len(queue) < missing and not queue.closed:
            remaining = deadline - monotonic()
            if remaining <= 0 or self.stopping.wait(min(remaining, FILL_POLL_S)):
                break
        return batch + queue.take_ready(missing)

    def call(self, index: int, batch: list[Item], current: Current) -> Called:
        """``consume_batch()`` over ``batch`` on thread ``index``, its outages waited out."""
        messages = [item.message for item in batch]
        outages = 0
        while True:
            start = monotonic()
            current[index] = (start, batch[0])
            try:
                result = self.consume_batch(messages)
            except Unavailable as error:
                outages += 1
                if not self.delivery.wait_unavailable(index, messages[0], outages, error, current):
                    current[index] = None
                    return Called(batch, None, start, monotonic())
                continue
            except BaseException as error:
                results = self._failed(batch, error)
            else:
                results = self._results(batch, result)
            current[index] = None
            return Called(batch, results, start, monotonic())

    def _failed(self, batch: list[Item], error: BaseException) -> Results:
        first, last = batch[0].message, batch[-1].message
        log.warning("consumer %s: consume_batch() of %d message(s) (%s, msg_id %s to %s, msg_id "
                    "%s) raised %r; delivering each alone", self.name, len(batch), first.topic,
                    first.log_id, last.topic, last.log_id, error)  # fmt: skip
        return [Fresh()] * len(batch)

    def _results(self, batch: list[Item], result: object) -> Results:
        """``result`` checked: None, or one None or exception per message."""
        if result is None:
            return [None] * len(batch)
        if isinstance(result, Sequence) and not isinstance(result, str | bytes):
            results = list(result)
            valid = (r is None or isinstance(r, BaseException) for r in results)
            if len(results) == len(batch) and all(valid):
                return results
        first = batch[0].message
        log.error("consumer %s: consume_batch() of %d message(s) (from %s, msg_id %s) returned "
                  "%.200r: it must return None or one None or exception per message; delivering "
                  "each alone", self.name, len(batch), first.topic, first.log_id,
                  result)  # fmt: skip
        return [Fresh()] * len(batch)
