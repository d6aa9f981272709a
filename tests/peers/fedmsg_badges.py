"""A fedmsg consumer as a fedmsg-hub site writes one, and a plain moksha consumer.

Runs on the hub's worker thread(s) (``__init__`` on the main thread, as under fedmsg-hub). The
settings come from ``self.hub.config`` (the hub's ``fedmsg:`` section); each message is recorded
to ``hubtest.badges.path``, and answered on ``org.test.badges.awarded`` with ``send_message``.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import fedmsg.consumers
import moksha.hub.api.consumer


class BadgeAwarder(fedmsg.consumers.FedmsgConsumer):  # type: ignore[misc]
    topic = ["org.fedoraproject.prod.bodhi.", "org.fedoraproject.prod.fas.*"]
    config_key = "hubtest.badges.enabled"
    validate_signatures = False

    def __init__(self, hub: Any) -> None:
        super().__init__(hub)
        self.path = self.hub.config.get("hubtest.badges.path")
        self.lock = threading.Lock()

    def consume(self, msg: dict[str, Any]) -> None:
        body = msg["body"]
        record = {
            "topic": msg["topic"],
            "msg_id": body.get("msg_id"),
            "i": body.get("i"),
            "headers": body.get("headers"),
            "thread": threading.current_thread().name,
        }
        with self.lock, open(self.path, "a") as out:
            out.write(json.dumps(record) + "\n")
        self.send_message("org.test.badges.awarded", {"for": body.get("msg_id")})


class Disabled(BadgeAwarder):
    config_key = "hubtest.disabled.enabled"


class Counter(moksha.hub.api.consumer.Consumer):  # type: ignore[misc]
    """A plain moksha consumer (not fedmsg's): counts what it gets in ``hubtest.counter.path``."""

    topic = "org.fedoraproject.prod.fas.*"

    def consume(self, msg: dict[str, Any]) -> None:
        with open(self.hub.config["hubtest.counter.path"], "a") as out:
            out.write(json.dumps({"topic": msg["topic"]}) + "\n")
