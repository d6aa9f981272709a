"""Upstream gap detection: messages a publisher sent that never reached the hub.

Runs on the reactor thread (``observe`` is called by the router once per input batch).

fedmsg publishers number their messages with the envelope's ``i``, one counter per publishing
process. A publishing identity here is ``(username, hostname, topic up to its fourth dot)``:
username + hostname tell hosts and service accounts apart, and the topic prefix
(``org.fedoraproject.prod.bodhi``) tells apart the applications running as one account on one
host, each with its own counter. For each identity the tracker keeps the last ``i``:

- ``i == last + 1``: in order;
- ``i > last + 1``: ``i - last - 1`` messages were lost upstream (ZeroMQ PUB/SUB drops at its
  high-water mark, or a reconnect): counted in ``upstream_gaps``
  (`hub.observe.stats.Stats.on_upstream_gap`) and logged once;
- ``i <= last``: the publisher restarted (its counter starts at 1 again): the identity starts
  over from ``i``, counted in ``upstream_restarts``, nothing counted as lost.

Only identities whose every topic passes the hub's upstream subscriptions are tracked (a
subscription that is a prefix of ``<topic prefix>.``, such as ``""`` or
``org.fedoraproject.prod.bodhi.``): a hub that subscribes to part of an application's topics
skips numbers by design, and counting those as lost would raise false alarms.
``upstream_gaps: false`` in the config turns tracking off altogether. Gap and restart log lines
are rate-limited (`LogLimit`: 10 per 10 s, then one line saying how many were held back): a
badly numbered input must not turn the reactor into a logger. The counters count every one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Set
from typing import Any

from hub.message import Message
from hub.observe.stats import Stats

log = logging.getLogger(__name__)

MAX_IDENTITIES = 10_000
MAX_TOPICS = 50_000  # distinct topics whose prefix is cached before the cache starts over


def envelope_identity(envelope: dict[str, Any], topic: str) -> tuple[str, str, str]:
    """(username, hostname, topic up to its fourth dot) of an envelope."""
    return (str(envelope.get("username") or ""), str(envelope.get("hostname") or ""),
            topic_prefix(topic))  # fmt: skip


def topic_prefix(topic: str) -> str:
    """The topic up to its fourth dot: the application part of a publishing identity."""
    return ".".join(topic.split(".", 4)[:4])


class LogLimit:
    """At most ``burst`` log lines per ``period_s``; counts what it holds back."""

    def __init__(self, burst: int = 10, period_s: float = 10.0) -> None:
        self.burst = burst
        self.period_s = period_s
        self.window_start = -period_s
        self.used = 0
        self.suppressed = 0

    def allow(self) -> bool:
        """True when a line may be logged now; logs how many were held back before it."""
        now = time.monotonic()
        if now - self.window_start >= self.period_s:
            if self.suppressed:
                log.warning("%d upstream gap/restart line(s) not logged in the last %.0f s "
                            "(see the upstream_gaps/upstream_restarts counters)",
                            self.suppressed, now - self.window_start)  # fmt: skip
            self.window_start, self.used, self.suppressed = now, 0, 0
        if self.used < self.burst:
            self.used += 1
            return True
        self.suppressed += 1
        return False


class GapTracker:
    """Last ``i`` per publishing identity; counts and logs gaps (rate-limited)."""

    def __init__(
        self,
        stats: Stats,
        subscriptions: Callable[[], Set[str]] = lambda: {""},
        limit: int = MAX_IDENTITIES,
    ) -> None:
        self.stats = stats
        self.subscriptions = subscriptions  # the upstream prefixes in force (reactor-owned)
        self.limit = limit
        self.last: dict[tuple[str, str, str], int] = {}  # insertion order: oldest first
        self.log_limit = LogLimit()
        self._prefixes: dict[str, str | None] = {}  # topic -> its prefix, None if untracked
        self._seen: Set[str] | None = None

    def tracked(self, prefix: str) -> bool:
        """True when every topic under ``prefix`` passes the upstream subscriptions."""
        return any((prefix + ".").startswith(p) for p in self.subscriptions())

    def _prefix_of(self, topic: str) -> str | None:
        """The cached prefix of ``topic``, None when its identity is not tracked."""
        if len(self._prefixes) >= MAX_TOPICS:
            self._prefixes.clear()
        prefix = topic_prefix(topic)
        cached = prefix if self.tracked(prefix) else None
        self._prefixes[topic] = cached
        return cached

    def observe(self, messages: Iterable[Message]) -> None:
        """Check the ``i`` of each message of a batch against its publisher's last one."""
        subscribed = self.subscriptions()
        if subscribed != self._seen:  # a reload changed the subscriptions
            self._seen = frozenset(subscribed)
            self._prefixes.clear()
        last, prefixes = self.last, self._prefixes
        for message in messages:
            envelope = message.envelope
            i = envelope.get("i")
            if type(i) is not int:
                continue
            topic = message.topic
            prefix = prefixes[topic] if topic in prefixes else self._prefix_of(topic)
            if prefix is None:
                continue
            key = (str(envelope.get("username") or ""), str(envelope.get("hostname") or ""),
                   prefix)  # fmt: skip
            before = last.get(key)
            last[key] = i
            if before is None:
                if len(last) > self.limit:
                    del last[next(iter(last))]  # forget the oldest identity
            elif i != before + 1:
                self._out_of_order(message, key, before, i)

    def _out_of_order(
        self, message: Message, key: tuple[str, str, str], before: int, i: int
    ) -> None:
        if i > before + 1:
            lost = i - before - 1
            self.stats.on_upstream_gap(lost)
            if self.log_limit.allow():
                log.warning("upstream gap: %d message(s) from %s@%s (%s) never arrived "
                            "(i %d -> %d); next is %s (msg_id %s)", lost, *key, before, i,
                            message.topic, message.log_id)  # fmt: skip
            return
        self.stats.on_upstream_restart()
        if self.log_limit.allow():
            log.info("publisher %s@%s (%s) restarted: i went from %d to %d; at %s (msg_id %s)",
                     *key, before, i, message.topic, message.log_id)  # fmt: skip
