"""fedora-messaging callbacks, run unchanged: a function, or a class instantiated once and called.

Instantiated on thread 0 of the consumer in ``setup`` (fedora-messaging instantiates it once,
before consuming); called on the consumer's worker thread(s) with one
``fedora_messaging.message.Message`` of its schema class (`hub.plugins.schemas`). The
consumer's ``config:`` is what the callback reads as ``fedora_messaging.config.conf
["consumer_config"]`` (set in ``setup``; that dict is process-wide, so every callback consumer
of one hub must have the same ``config:``, which the loader checks).

What the callback raises, and what becomes of the message (fedora-messaging's behaviour, then
the hub's):

- returns: done (fedora-messaging: ack);
- ``Nack``: fedora-messaging puts it back on the queue at once; here it is tried again with the
  hub's backoff (`hub.Retry`), and dead-lettered after ``retry.max_attempts``;
- ``Drop``: dropped on purpose, counted (fedora-messaging: rejected without requeue);
- ``HaltConsumer(requeue=False)`` (its default): the message is finished, as done, and this
  consumer stops (fedora-messaging: ack, then the whole process exits with ``exit_code``; here
  the other consumers go on and the exit code is logged);
- ``HaltConsumer(requeue=True)``: this consumer stops and the message stays, with its backlog,
  for the next start (fedora-messaging: nack with requeue);
- any other exception: retried with backoff, then dead-lettered (fedora-messaging: every unacked
  message back to the queue and the consumer stops).
"""

from __future__ import annotations

from typing import Any

from hub.consumer import Consumer, HubHandle
from hub.errors import Drop, Halt, Retry
from hub.message import Message
from hub.plugins.schemas import Schemas


class CallbackConsumer(Consumer):
    """A `hub.Consumer` running one fedora-messaging callback."""

    def __init__(self, name: str, config: dict[str, Any], hub: HubHandle, *, target: Any) -> None:
        super().__init__(name, config, hub)
        self.target = target
        self.schemas = Schemas()
        self.call: Any = None

    def setup(self) -> None:
        from fedora_messaging import config as fm_config

        fm_config.conf.update({"consumer_config": self.config})  # loads the file, then sets
        self.call = self.target() if isinstance(self.target, type) else self.target

    def figures(self) -> dict[str, int]:
        """``schema_unknown`` and ``schema_invalid`` so far (any thread; for /status)."""
        return {"schema_unknown": self.schemas.counts["schema_unknown"],
                "schema_invalid": self.schemas.counts["schema_invalid"]}  # fmt: skip

    def consume(self, message: Message) -> None:
        from fedora_messaging import exceptions as fm

        built = self.schemas.build(message)
        try:
            self.call(built)
        except fm.Nack:
            raise Retry(reason="the callback raised Nack: tried again with backoff") from None
        except fm.Drop:
            raise Drop("the callback raised fedora_messaging.exceptions.Drop") from None
        except fm.HaltConsumer as halt:
            raise Halt(f"the callback raised HaltConsumer(exit_code={halt.exit_code}, "
                       f"requeue={halt.requeue}): {halt.reason}",
                       requeue=bool(halt.requeue)) from None  # fmt: skip
