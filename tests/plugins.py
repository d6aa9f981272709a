"""Consumer plugins used only by tests (importable as ``tests.plugins:Name``)."""

from __future__ import annotations

from hub import Consumer, Message


class Echo(Consumer):
    """Republishes every message's body on ``<topic>.echo`` through ``self.hub.publish``."""

    topics = ["org.test.*"]

    def consume(self, message: Message) -> None:
        self.hub.publish(message.topic + ".echo", {"echo": message.body})


class NotAConsumer:
    """Has no consume() method."""


class StringTopics(Consumer):
    """Sets topics to a string instead of a list."""

    topics = "org.test.*"  # type: ignore[assignment]

    def consume(self, message: Message) -> None:
        pass
