"""`Bridge`: carries what it receives to the other transport (ZeroMQ -> AMQP, or AMQP -> ZeroMQ).

Runs on its worker thread(s). A site moving from the fedmsg bus to RabbitMQ runs one bridge per
direction it needs, and moves consumers over one at a time: each message keeps its topic, body,
msg_id and send time (``sent-at`` on AMQP, ``timestamp`` on ZeroMQ) and its headers, in the
target's own wire format (`hub.transports.amqp.wire.forwarded`,
`hub.transports.zeromq.codec.Encoder.forwarded`).

A message is finished (its cursor moves, or its delivery is acked) only once the target took it:
on AMQP, once the broker confirmed it. When the target does not take it, ``hub.forward()``
raises `hub.errors.PublishFailed`: the hub retries it with backoff like any failure and, after
``retry.max_attempts``, dead-letters it (``consumer-hub deadletters replay`` sends it again).
A message the target can never take (`PublishRefused`: it cannot be written in AMQP's format,
or the broker refuses the topic) is dead-lettered at once.

Every message a bridge carries is marked with the header ``consumer_hub_bridged`` (the transport
it was written to). A bridge drops a message that has it, counted and logged: two bridges facing
each other, on one hub or on two, never carry a message back and forth.

config:
    to: ``amqp`` or ``zmq`` (required): the transport to carry messages to. It must be an
        output of this hub: ``amqp`` needs the ``amqp`` section, ``zmq`` a ``publish_endpoint``.
    topics (the consumer's own key, beside ``class``): what to carry; default every topic.

Example::

    consumers:
      to-rabbit:
        class: consumers.bridge:Bridge
        source: zmq
        config: {to: amqp}
"""

from __future__ import annotations

from hub import Consumer, Drop, Message, Reject
from hub.errors import PublishRefused
from hub.transports.base import BRIDGED

TARGETS = ("amqp", "zmq")


class Bridge(Consumer):
    """Republishes each message on the transport ``config["to"]`` names."""

    topics = ["*"]

    def setup(self) -> None:
        to = self.config.get("to")
        if to not in TARGETS:
            raise ValueError(f"config.to is {to!r}; it must be one of: {', '.join(TARGETS)}")
        if to not in self.hub.outputs:
            need = "an amqp section" if to == "amqp" else "a publish_endpoint"
            raise ValueError(f"config.to is {to!r}, but this hub has no {to} output: add {need}")
        self.to: str = to

    def consume(self, message: Message) -> None:
        headers = message.envelope.get("headers")
        if isinstance(headers, dict) and BRIDGED in headers:
            raise Drop(f"a bridge carried it already (to {headers[BRIDGED]})")
        try:
            self.hub.forward(message, self.to)
        except PublishRefused as refused:
            raise Reject(str(refused)) from None
