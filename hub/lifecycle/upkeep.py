"""The hub's periodic reliability chores, and what they add to status and ``/ready``.

Runs on the reactor thread: ``tick`` is called by the service's one-second ticker. Each tick it
resumes input if the log is back under its disk budget, clears finished crash loops, logs newly
stuck workers once (consumer, topic, msg_id), injects dead letters an operator asked to replay,
and every ``backlog.commit_interval_s`` commits the cursors (`hub.storage.durable.Durable.commit`).
The commit runs on its own `LoopingCall` so its interval is exact.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from twisted.internet.task import LoopingCall

from hub.errors import DecodeError
from hub.workers.delivery import Outcome

if TYPE_CHECKING:
    from hub.lifecycle.service import HubService

log = logging.getLogger(__name__)


class Upkeep:
    """Commit, resume, replay, watch for stuck workers."""

    def __init__(self, service: HubService) -> None:
        self.service = service
        self.dead_letter_counts: Counter[str] = Counter()
        self.stuck_seen: set[tuple[str, str, float]] = set()
        self.committer = LoopingCall(self.commit)

    def start(self) -> None:
        """Read the dead-letter counts and start committing (after the state is open)."""
        self.dead_letter_counts.update(self.service.dead_letters.counts())
        self.committer.clock = self.service.reactor
        self.committer.start(self.service.config.backlog.commit_interval_s, now=False)

    def stop(self) -> None:
        if self.committer.running:
            self.committer.stop()

    def on_outcomes(self, name: str, outcomes: list[Outcome]) -> None:
        """Count the messages a worker report says were dead-lettered."""
        failed = sum(1 for o in outcomes if o.kind == "failed")
        if failed:
            self.dead_letter_counts[name] += failed

    def commit(self) -> None:
        self.service.durable.commit()

    def tick(self) -> None:
        self.service.router.check_room()
        self.service.supervisor.tick()
        self.watch_stuck(time.time())
        self.replay_dead_letters()

    def watch_stuck(self, now: float) -> None:
        """Log each newly stuck consume() once, naming consumer, topic and msg_id."""
        current = set()
        for name, life in self.service.consumers.items():
            for busy in life.stuck(now):
                key = (name, busy.msg_id, busy.since)
                current.add(key)
                if key not in self.stuck_seen:
                    log.error("consumer %s: consume() of %s (msg_id %s) has run for %.0f s, "
                              "over stuck_after_s", name, busy.topic, busy.msg_id,
                              now - busy.since)  # fmt: skip
        self.stuck_seen = current

    def replay_dead_letters(self) -> None:
        """Put dead letters marked by ``consumer-hub deadletters replay`` back in a backlog."""
        store, router = self.service.dead_letters, self.service.router
        try:
            rows = store.replay_requested()
        except sqlite3.Error as exc:
            log.error("dead letters: cannot read replay requests: %s", exc)
            return
        for row_id, name, topic, envelope, msg_id in rows:
            if name not in router.routes:
                continue  # kept until that consumer runs again
            try:
                injected = router.inject(name, [topic.encode("utf-8"), bytes(envelope)],
                                         time.time())  # fmt: skip
            except DecodeError as exc:
                log.error("consumer %s: dead letter %d on %s (msg_id %s) cannot be replayed: %s",
                          name, row_id, topic, msg_id or "-", exc)  # fmt: skip
                continue
            if not injected:
                return  # the log cannot be written just now: kept for a later tick
            store.mark_replayed(row_id)
            self.dead_letter_counts[name] -= 1
            log.info("consumer %s: replaying dead letter %d on %s (msg_id %s)", name, row_id,
                     topic, msg_id or "-")  # fmt: skip

    def add_to_snapshot(self, hub: dict[str, Any], consumers: dict[str, dict[str, Any]]) -> None:
        """Backlog-on-disk, retry, dead-letter and supervision figures (keys documented in
        docs/reliability.md)."""
        service = self.service
        hub.update(service.durable.hub_snapshot())
        hub["upstream_restarts"] = service.stats.hub["upstream_restarts"]
        for key in ("disk_full_pauses", "log_write_errors"):
            hub[key] = service.stats.hub[key]
        for name, doc in consumers.items():
            rt = service.consumers[name]
            doc.update(service.durable.snapshot(name))
            doc.update(service.supervisor.snapshot(name))
            doc["dead_letters"] = self.dead_letter_counts[name]
            doc["retrying"] = [
                {"msg_id": r.msg_id, "topic": r.topic, "attempt": r.attempt,
                 "next_at": r.next_at, "error": r.error}
                for r in rt.workers.delivery.retrying if r is not None
            ]  # fmt: skip

    def not_ready(self) -> list[str]:
        """Reasons for /ready beyond the service's own."""
        reasons = [
            f"consumer {name} is in a worker crash loop"
            for name in self.service.consumers
            if self.service.supervisor.crash_loop.get(name)
        ]
        if self.service.router.unwritten is not None:
            reasons.append("the durable log cannot be written (input paused)")
        return reasons
