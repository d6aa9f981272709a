"""Consumer and producer plugins used only by tests (importable as ``tests.plugins:Name``)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson

from hub import Consumer, Halt, Message, Producer, Reject


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


class Nothing(Consumer):
    """Does nothing with each message (the status endpoint counts them)."""

    topics = ["*"]

    def consume(self, message: Message) -> None:
        pass


class Troublemaker(Consumer):
    """Misbehaves on purpose, by topic. config: ``die_on`` (raise SystemExit: the worker thread
    dies), ``halt_on`` (raise hub.Halt); every other message is appended to ``path``."""

    topics = ["*"]

    def consume(self, message: Message) -> None:
        if message.topic == self.config.get("die_on"):
            raise SystemExit("told to die")
        if message.topic == self.config.get("halt_on"):
            raise Halt("told to halt")
        with open(self.config["path"], "ab") as out:
            out.write(orjson.dumps({"event": "message", "msg_id": message.msg_id}) + b"\n")


class EveryThird(Producer):
    """Publishes ``org.test.produced`` on every poll (its number, start time and thread), then
    raises on every third."""

    interval = 1.0

    def setup(self) -> None:
        self.n = 0

    def poll(self) -> None:
        self.n += 1
        body = {"n": self.n, "at": time.time(), "thread": threading.current_thread().name}
        self.hub.publish("org.test.produced", body)
        if self.n % 3 == 0:
            raise RuntimeError(f"poll {self.n} fails, as every third does")


class SkipsRepeats(Consumer):
    """Counts its own events, as the archive counts a redelivery it stored already: ``setups``
    once per instance in setup(), ``skipped`` for a message whose body has ``"repeat": true``
    (done, never an error); every other message is only consumed."""

    topics = ["org.test.*"]

    def setup(self) -> None:
        self.counters.add("setups")

    def consume(self, message: Message) -> None:
        if message.body.get("repeat"):
            self.counters.add("skipped")


class Throttled(Consumer):
    """Takes as long per message as the number of seconds in the file ``control`` says (read
    again every 20 ms, so a smaller number also cuts short the message in hand)."""

    topics = ["*"]

    def consume(self, message: Message) -> None:
        started = time.monotonic()
        control = Path(self.config["control"])
        while time.monotonic() - started < float(control.read_text() or 0):
            time.sleep(0.02)


class Rejecter(Consumer):
    """Rejects every message it is given (``hub.Reject``: dead-lettered at once)."""

    topics = ["org.test.bad"]

    def consume(self, message: Message) -> None:
        raise Reject(f"{message.topic} is not wanted here")
