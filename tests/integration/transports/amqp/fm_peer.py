"""fedora-messaging itself, as a peer process: publish one message, or consume one and print it.

Runs as its own process (``python -m tests.integration.transports.amqp.fm_peer``), configured
the library's way: ``FEDORA_MESSAGING_CONF`` names a TOML file whose ``amqp_url`` is the test
node's. It uses only the library's public API (``api.publish``, ``api.consume``), so what it
writes and accepts is what every fedora-messaging application writes and accepts.

    fm_peer publish TOPIC BODY_JSON    -> prints {"id", "topic", "body", "headers"} once confirmed
    fm_peer consume QUEUE              -> consumes QUEUE (it must exist), prints the first message
"""

from __future__ import annotations

import json
import sys
from typing import Any

from fedora_messaging import api, exceptions, message


def _dump(msg: message.Message) -> None:
    fields = {"id": msg.id, "topic": msg.topic, "body": msg.body, "headers": msg._headers,
              "severity": msg.severity, "class": type(msg).__name__}  # fmt: skip
    print(json.dumps(fields), flush=True)


def publish(topic: str, body: str) -> None:
    msg = message.Message(topic=topic, body=json.loads(body), severity=message.WARNING)
    api.publish(msg)
    _dump(msg)


def consume(queue: str) -> None:
    def first(msg: message.Message) -> Any:
        _dump(msg)
        raise exceptions.HaltConsumer(exit_code=0)

    queues: Any = {queue: {"durable": True, "auto_delete": False, "exclusive": False,
                           "arguments": {}}}  # fmt: skip
    try:
        api.consume(first, bindings=[], queues=queues)
    except exceptions.HaltConsumer as halt:
        sys.exit(halt.exit_code)


if __name__ == "__main__":
    if sys.argv[1] == "publish":
        publish(sys.argv[2], sys.argv[3])
    else:
        consume(sys.argv[2])
