"""Watching for stuck workers: a ``consume()`` running longer than its ``stuck_after_s``, and
a producer's ``poll()`` running longer than its interval (or its ``stuck_after_s``).

Runs on the reactor thread, once a second (the service's tick; the producers' own one-second
timer). What "stuck" means is defined once, in `hub.workers.life.ConsumerLife.stuck` and
`hub.workers.producer_life.ProducerLife.state`; this only logs each newly stuck call once,
naming consumer, topic and msg_id, or the producer. /status, /ready and ``top`` read the same
definitions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from hub.workers.life import ConsumerLife
from hub.workers.producer_life import ProducerLife

log = logging.getLogger(__name__)


class StuckWatch:
    """Logs each stuck ``consume()`` once, when it becomes stuck."""

    def __init__(
        self, lives: Callable[[], Iterable[ConsumerLife]], clock: Callable[[], float] = time.time
    ) -> None:
        self.lives = lives
        self.clock = clock
        self.seen: set[tuple[str, str, float]] = set()

    def check(self) -> None:
        now = self.clock()
        current = set()
        for life in self.lives():
            for busy in life.stuck(now):
                key = (life.name, busy.msg_id, busy.since)
                current.add(key)
                if key not in self.seen:
                    log.error("consumer %s: consume() of %s (msg_id %s) has run for %.0f s, "
                              "over stuck_after_s", life.name, busy.topic, busy.msg_id,
                              now - busy.since)  # fmt: skip
        self.seen = current


class StuckPolls:
    """Logs each stuck producer ``poll()`` once, when it becomes stuck."""

    def __init__(
        self, lives: Callable[[], Iterable[ProducerLife]], clock: Callable[[], float] = time.time
    ) -> None:
        self.lives = lives
        self.clock = clock
        self.seen: set[tuple[str, float]] = set()

    def check(self) -> None:
        now = self.clock()
        current = set()
        for life in self.lives():
            stuck_for = life.stuck_for(now)
            if stuck_for is None or life.polling_since is None:
                continue
            key = (life.name, life.polling_since)
            current.add(key)
            if key not in self.seen:
                log.error("producer %s: poll() has run for %.0f s, over its stuck_after_s "
                          "(%g s)", life.name, stuck_for, life.loaded.stuck_after_s)  # fmt: skip
        self.seen = current
