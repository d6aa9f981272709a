"""hub.transports.outputs: publish() to publish_to's output, forward() waits for the output."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from twisted.internet import defer

from hub.errors import HubError, PublishFailed
from hub.message import Message
from hub.transports.outputs import Outputs


class Reactor:
    """callFromThread runs the call on a thread of its own, as the reactor would."""

    def callFromThread(self, f: Any, *args: Any) -> None:
        threading.Thread(target=f, args=args).start()


class FakeOutput:
    """An output whose forward() answers with ``answer`` (None: never answers)."""

    def __init__(self, answer: defer.Deferred[None] | None = None) -> None:
        self.answer = answer
        self.published: list[tuple[str, Any]] = []
        self.forwarded: list[Message] = []

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def figures(self) -> dict[str, int]:
        return {"published": len(self.published), "publish_dropped": 1}

    def publish(self, topic: str, body: Any) -> None:
        self.published.append((topic, body))

    def forward(self, message: Message) -> defer.Deferred[None]:
        self.forwarded.append(message)
        return self.answer if self.answer is not None else defer.Deferred()


MESSAGE = Message("org.x", {"msg": {}})


def test_publish_goes_to_publish_to_and_figures_add_up() -> None:
    """publish() uses publish_to's output only; figures() sums every output's counts."""
    zmq, amqp = FakeOutput(), FakeOutput()
    outputs = Outputs(Reactor(), {"zmq": zmq, "amqp": amqp}, "amqp")
    outputs.publish("org.x", {"n": 1})
    assert (zmq.published, amqp.published) == ([], [("org.x", {"n": 1})])
    assert outputs.figures() == {"published": 1, "publish_dropped": 2}
    assert outputs.outputs == {"zmq", "amqp"}
    with pytest.raises(HubError, match="no zmq output"):
        Outputs(Reactor(), {"amqp": amqp}, "zmq").publish("org.x", {})


def test_forward_returns_once_taken_and_raises_what_the_output_failed_with() -> None:
    """forward() returns when the output's Deferred fires, re-raises its failure, and names
    the outputs there are when asked for one that is not."""
    taken = FakeOutput(defer.succeed(None))
    failing = FakeOutput(defer.fail(PublishFailed("broker down")))
    outputs = Outputs(Reactor(), {"amqp": taken, "zmq": failing}, "amqp")
    outputs.forward(MESSAGE, "amqp")
    assert taken.forwarded == [MESSAGE]
    with pytest.raises(PublishFailed, match="broker down"):
        outputs.forward(MESSAGE, "zmq")
    with pytest.raises(PublishFailed, match=r"no 'mqtt' output \(it has: amqp, zmq\)"):
        outputs.forward(MESSAGE, "mqtt")


def test_forward_gives_up_after_its_timeout() -> None:
    """An output that never answers: PublishFailed after timeout_s, the caller keeps going."""
    outputs = Outputs(Reactor(), {"amqp": FakeOutput()}, "amqp", timeout_s=0.05)
    with pytest.raises(PublishFailed, match=r"did not take the message in 0\.05 s"):
        outputs.forward(MESSAGE, "amqp")
