"""The seam between a transport and the rest of the hub: what a transport must provide.

Runs on the reactor thread (these are Protocols: they only describe). The hub's own parts --
workers, delivery, retries, supervision, observability -- never import a transport; the service
(`hub.lifecycle.service`) wires one in through these shapes.

A transport provides three things:

- an `Input`: it receives on the reactor, decodes (or hands raw frames with its ``decode``
  function to `hub.routing.enqueuer.Enqueuer`), and can be paused, resumed and stopped; it says
  whether an upstream is connected (``/ready``, systemd's READY=1);
- an `Output`: ``publish(topic, body)`` from any thread, with counters of what went out and what
  was dropped (exported like every other figure);
- for each consumer, a *source* its worker threads take messages from and report back to:
  `hub.workers.seams.Source`. Finishing a message (done, dropped on purpose, dead-lettered) is
  what makes it safe to forget: the ZeroMQ transport moves the consumer's cursor in the shared
  log; a broker transport acknowledges the delivery.

Where the backlog lives is the transport's to say:

- **ZeroMQ** (fedmsg): no broker keeps anything, so the hub does. The enqueuer writes every
  batch to the shared local log (`hub.storage`) before any consumer sees it, and each
  consumer's source is a `hub.storage.spool.Spool` (an in-memory window in front of the log,
  read back from disk when it spills). Backlog = window + what the worker holds + on disk.
- **A broker** (AMQP, next): the broker keeps each consumer's queue; the transport's input
  delivers straight into that consumer's window (bounded by its prefetch), nothing is written to
  the local log, finishing acknowledges, a halt or a shutdown returns what is unfinished to the
  broker. Backlog = ready in the broker's queue + the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from twisted.internet import defer

from hub.message import Message

# The header a bridge (consumers/bridge.py) sets on what it carries, to the transport it wrote
# it to: a message that has it is never carried again, so two bridges cannot make a loop.
BRIDGED = "consumer_hub_bridged"


class Input(Protocol):
    """The receiving side of a transport."""

    @property
    def connected(self) -> bool:
        """True while at least one upstream is connected (or bound)."""

    def start(self, subscriptions: Iterable[str]) -> None:
        """Connect, subscribe to ``subscriptions`` and start receiving."""

    def subscribe(self, subscriptions: Iterable[str]) -> None:
        """Make the upstream subscriptions exactly ``subscriptions`` (reload)."""

    def pause(self) -> None:
        """Stop reading until ``resume``; nothing already read is lost."""

    def resume(self) -> None:
        """Read again after ``pause``."""

    def stop(self) -> None:
        """Stop receiving for good (shutdown)."""


class Output(Protocol):
    """The publishing side of a transport: ``hub.publish()``."""

    def start(self) -> None:
        """Open what publishing needs (reactor)."""

    def stop(self) -> None:
        """Close it (reactor, at shutdown)."""

    def publish(self, topic: str, body: Any) -> None:
        """Send one new message (any thread)."""

    def forward(self, message: Message) -> defer.Deferred[None]:
        """Send ``message`` on as it is (reactor thread); fires once the transport took it, or
        fails with `hub.errors.PublishFailed` (or `PublishRefused`)."""

    def figures(self) -> dict[str, int]:
        """``published`` and ``publish_dropped`` so far (any thread)."""
