"""What a consumer's ``self.hub`` is: ``publish()`` and ``forward()`` over the hub's outputs.

``publish`` and ``forward`` run on any thread (a consumer's worker, mostly); ``start``, ``stop``
and the outputs' own ``forward`` run on the reactor thread. ``publish`` goes to the output
``publish_to`` names and returns at once (the output counts it as published or dropped).
``forward`` hands the message to the reactor with ``reactor.callFromThread`` and waits on the
calling thread until the output took it, or for at most ``timeout_s``: what is not taken raises
`PublishFailed`, and the caller still holds the message. Never call ``forward`` on the reactor.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping
from typing import Any

from hub.errors import HubError, PublishFailed
from hub.message import Message
from hub.transports.base import Output

FORWARD_TIMEOUT_S = 30.0


class Outputs:
    """Every output of this hub by transport name, and which one ``publish()`` uses."""

    def __init__(
        self,
        reactor: Any,
        outputs: Mapping[str, Output],
        publish_to: str,
        timeout_s: float = FORWARD_TIMEOUT_S,
        state_dir: str = "",
    ) -> None:
        self.reactor = reactor
        self._outputs = dict(outputs)
        self.publish_to = publish_to
        self.timeout_s = timeout_s
        self.state_dir = state_dir  # the hub's, for consumers' own files (`hub.consumer.HubHandle`)

    @property
    def outputs(self) -> frozenset[str]:
        """The transports this hub can send on."""
        return frozenset(self._outputs)

    def start(self) -> None:
        for output in self._outputs.values():
            output.start()

    def stop(self) -> None:
        for output in self._outputs.values():
            output.stop()

    def figures(self) -> dict[str, int]:
        """``published`` and ``publish_dropped`` summed over the outputs (any thread)."""
        total = {"published": 0, "publish_dropped": 0}
        for output in self._outputs.values():
            for key, value in output.figures().items():
                total[key] = total.get(key, 0) + value
        return total

    def publish(self, topic: str, body: Any) -> None:
        """A new message on the ``publish_to`` transport (any thread)."""
        output = self._outputs.get(self.publish_to)
        if output is None:
            raise HubError(f"hub.publish(): no {self.publish_to} output is configured")
        output.publish(topic, body)

    def forward(self, message: Message, to: str) -> None:
        """Send ``message`` on transport ``to`` as it is; return once it was taken (any thread
        but the reactor's)."""
        output = self._outputs.get(to)
        if output is None:
            have = ", ".join(sorted(self._outputs)) or "none"
            raise PublishFailed(f"hub.forward(): this hub has no {to!r} output (it has: {have})")
        taken: concurrent.futures.Future[None] = concurrent.futures.Future()

        def send() -> None:
            sent = output.forward(message)
            sent.addCallbacks(taken.set_result, lambda f: taken.set_exception(f.value))

        self.reactor.callFromThread(send)
        try:
            taken.result(self.timeout_s)
        except concurrent.futures.TimeoutError:
            raise PublishFailed(f"{to} did not take the message in {self.timeout_s:g} s") from None
