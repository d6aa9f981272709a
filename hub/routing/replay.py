"""Replaying dead letters: rows an operator marked with ``consumer-hub deadletters replay``.

Runs on the reactor thread, once a second (the service's tick). Each marked row goes back into
the log as a record *targeted* at its consumer (`hub.routing.enqueuer.Enqueuer.inject`), so it
reaches that consumer only, after its current backlog, and survives a crash like any other
message; then the row is removed. A row for a consumer not running now waits for it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

from hub.errors import DecodeError
from hub.observe.journal import log_fields
from hub.storage.deadletters import DeadLetterStore

log = logging.getLogger(__name__)

# (consumer, frames, received_at) -> False when it cannot be written now; may raise DecodeError
Inject = Callable[[str, list[bytes], float], bool]


class DeadLetterReplay:
    """Moves replay-marked dead letters back into their consumer's backlog."""

    def __init__(
        self,
        *,
        store: DeadLetterStore,
        inject: Inject,
        routed: Callable[[str], bool],
        replayed: Callable[[str], None],
    ) -> None:
        self.store = store
        self.inject = inject
        self.routed = routed  # is this consumer running now?
        self.replayed = replayed  # one dead letter of this consumer is back in its backlog

    def run(self) -> None:
        try:
            rows = self.store.replay_requested()
        except sqlite3.Error as exc:
            log.error("dead letters: cannot read replay requests: %s", exc)
            return
        for row_id, name, topic, envelope, msg_id in rows:
            if not self.routed(name):
                continue  # kept until that consumer runs again
            about = log_fields(name, topic, msg_id or "-")
            try:
                frames = [topic.encode("utf-8"), bytes(envelope)]
                if not self.inject(name, frames, time.time()):
                    return  # the log cannot be written just now: kept for a later tick
            except DecodeError as exc:
                log.error("consumer %s: dead letter %d on %s (msg_id %s) cannot be replayed: %s",
                          name, row_id, topic, msg_id or "-", exc, extra=about)  # fmt: skip
                continue
            self.store.mark_replayed(row_id)
            self.replayed(name)
            log.info("consumer %s: replaying dead letter %d on %s (msg_id %s)", name, row_id,
                     topic, msg_id or "-", extra=about)  # fmt: skip
