"""Upstream gap detection: messages a publisher sent that never reached the hub.

Runs on the reactor thread (``observe`` is called by the router once per input batch).

fedmsg publishers number their messages with the envelope's ``i``, one counter per publishing
process. A publishing identity here is ``(username, hostname, topic up to its fourth dot)``:
username + hostname tell hosts and service accounts apart, and the topic prefix
(``org.fedoraproject.prod.bodhi``) tells apart the applications running as one account on one
host, each with its own counter. For each identity the tracker keeps the last ``i``:

- ``i == last + 1``: in order;
- ``i > last + 1``: ``i - last - 1`` messages were lost upstream (ZeroMQ PUB/SUB drops at its
  high-water mark, or a reconnect): counted in ``stats.hub["upstream_gaps"]`` and logged once;
- ``i <= last``: the publisher restarted (its counter starts at 1 again): the identity starts
  over from ``i``, counted in ``upstream_restarts``, nothing counted as lost.

Only identities whose every topic passes the hub's upstream subscriptions are tracked (a
subscription that is a prefix of ``<topic prefix>.``, such as ``""`` or
``org.fedoraproject.prod.bodhi.``): a hub that subscribes to part of an application's topics
skips numbers by design, and counting those as lost would raise false alarms.
``upstream_gaps: false`` in the config turns tracking off altogether.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Set
from typing import Any

from hub.message import Message
from hub.stats import Stats

log = logging.getLogger(__name__)

MAX_IDENTITIES = 10_000


def identity(message: Message) -> tuple[str, str, str]:
    """The publishing identity of a message (see the module docstring)."""
    return envelope_identity(message.envelope, message.topic)


def envelope_identity(envelope: dict[str, Any], topic: str) -> tuple[str, str, str]:
    """(username, hostname, topic up to its fourth dot) of an envelope."""
    prefix = ".".join(topic.split(".", 4)[:4])
    return (str(envelope.get("username") or ""), str(envelope.get("hostname") or ""), prefix)


class GapTracker:
    """Last ``i`` per publishing identity; counts and logs gaps."""

    def __init__(
        self,
        stats: Stats,
        subscriptions: Callable[[], Set[str]] = lambda: {""},
        limit: int = MAX_IDENTITIES,
    ) -> None:
        self.stats = stats
        self.subscriptions = subscriptions  # the upstream prefixes in force (reactor-owned)
        self.limit = limit
        self.last: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        self._whole: dict[str, bool] = {}  # topic prefix -> all its topics subscribed?
        self._seen: Set[str] | None = None

    def tracked(self, prefix: str) -> bool:
        """True when every topic under ``prefix`` passes the upstream subscriptions."""
        subscribed = self.subscriptions()
        if subscribed is not self._seen:  # a reload replaced the subscriptions
            self._seen = subscribed
            self._whole.clear()
        whole = self._whole.get(prefix)
        if whole is None:
            whole = self._whole[prefix] = any((prefix + ".").startswith(p) for p in subscribed)
        return whole

    def observe(self, messages: Iterable[Message]) -> None:
        """Check the ``i`` of each message of a batch against its publisher's last one."""
        last = self.last
        for message in messages:
            i = message.envelope.get("i")
            if type(i) is not int:
                continue
            key = identity(message)
            if not self.tracked(key[2]):
                continue
            before = last.get(key)
            last[key] = i
            if before is None:
                if len(last) > self.limit:
                    last.popitem(last=False)
                continue
            if i == before + 1:
                continue
            if i > before + 1:
                self._gap(message, key, before, i)
            else:
                self.stats.hub["upstream_restarts"] += 1
                log.info("publisher %s@%s (%s) restarted: i went from %d to %d; at %s "
                         "(msg_id %s)", *key, before, i, message.topic, message.log_id)  # fmt: skip

    def _gap(self, message: Message, key: tuple[str, str, str], before: int, i: int) -> None:
        lost = i - before - 1
        self.stats.hub["upstream_gaps"] += lost
        log.warning("upstream gap: %d message(s) from %s@%s (%s) never arrived (i %d -> %d); "
                    "next is %s (msg_id %s)", lost, *key, before, i, message.topic,
                    message.log_id)  # fmt: skip
