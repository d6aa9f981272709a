"""fedora-messaging callbacks as a ``fedora-messaging consume`` site writes them.

Run on the hub's worker thread(s). ``Recorder`` (a class: instantiated once) writes what each
message's schema object says to ``consumer_config["path"]``; ``Troubled`` raises fedora-messaging's
``Nack``, ``Drop`` or ``HaltConsumer`` by topic.
"""

from __future__ import annotations

import json
from typing import Any

from fedora_messaging import config, exceptions


class Recorder:
    def __init__(self) -> None:
        self.path = config.conf["consumer_config"]["path"]

    def __call__(self, message: Any) -> None:
        record = {"class": type(message).__name__, "topic": message.topic, "id": message.id,
                  "summary": message.summary, "usernames": message.usernames,
                  "packages": message.packages, "agent_name": message.agent_name,
                  "queue": message.queue}  # fmt: skip
        with open(self.path, "a") as out:
            out.write(json.dumps(record) + "\n")


def troubled(message: Any) -> None:
    """Nack on *.nack (every time), Drop on *.drop, HaltConsumer on *.halt; else record."""
    kind = message.topic.rsplit(".", 1)[-1]
    if kind == "nack":
        raise exceptions.Nack()
    if kind == "drop":
        raise exceptions.Drop()
    if kind == "halt":
        raise exceptions.HaltConsumer(exit_code=3, reason="told to", requeue=False)
    with open(config.conf["consumer_config"]["path"], "a") as out:
        out.write(json.dumps({"topic": message.topic, "id": message.id}) + "\n")
