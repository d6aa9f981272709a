"""Typed exceptions: outcomes a consumer raises, and errors the hub reports.

Runs on any thread: these are plain classes.

Consumer outcomes (raised by ``Consumer.consume()``; base class `ConsumerOutcome`):
    `Retry`  - try this message again after ``delay`` seconds.
    `Drop`   - give up on this message on purpose; it is counted, not retried.
    `Halt`   - stop this consumer; its backlog is kept.
    `Reject` - this message can never be handled: dead-letter it now, without retrying.
    `Unavailable` - something this consumer needs (its database) is down: the message is not at
                 fault; try it again after a backoff, counting no attempt, while /ready says why.

Errors (raised by the hub, each mapped to a documented exit code by ``hub.cli.main``):
    `ConfigError`, `PluginLoadError`, `EndpointError`.

Raised to a consumer by ``hub.forward()``: `PublishFailed` (the transport did not take the
message; trying again may work) and its subclass `PublishRefused` (it never will: the message
cannot be encoded for that transport, or the broker refused it).
"""

from __future__ import annotations


class HubError(Exception):
    """Base class of every error the hub raises on purpose."""

    exit_code = 1


class ConfigError(HubError):
    """The configuration is invalid; the message names file, key and what was expected."""

    exit_code = 3


class PluginLoadError(HubError):
    """A consumer plugin could not be loaded, validated or set up."""

    exit_code = 4


class EndpointError(HubError):
    """A ZeroMQ endpoint could not be bound or connected."""

    exit_code = 5


class StoreError(HubError):
    """The durable log cannot be used (unreadable, not writable, corrupt beyond repair)."""


class DeadLetterError(HubError):
    """The dead letters cannot be opened or written."""


class PublishFailed(HubError):
    """``hub.forward()``: the transport did not take the message (not connected, not confirmed
    in time, the send high-water mark reached); it may take it if tried again."""


class PublishRefused(PublishFailed):
    """``hub.forward()``: the message can never go out on that transport (it cannot be encoded
    for it, or the broker refused it)."""


class DecodeError(HubError):
    """A message on the wire is malformed; ``cause`` is the short name it is counted under."""

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(f"{cause}: {detail}")
        self.cause = cause
        self.detail = detail


class ConsumerOutcome(Exception):
    """Base class of the exceptions a consumer's ``consume()`` raises to say what should
    become of a message (`Retry`, `Drop`, `Halt`, `Reject`).

    Not an error of the hub (hence not a `HubError`), and not the record of what did become of
    it: that is `hub.workers.delivery.Outcome`, whose ``kind`` is a `hub.workers.delivery.Fate`.
    """


class Retry(ConsumerOutcome):
    """Deliver this message again after ``delay`` seconds."""

    def __init__(self, delay: float = 0.0, reason: str = "") -> None:
        super().__init__(reason or f"retry in {delay}s")
        self.delay = delay
        self.reason = reason


class Drop(ConsumerOutcome):
    """Drop this message deliberately; it is logged and counted as dropped."""

    def __init__(self, reason: str = "dropped by consumer") -> None:
        super().__init__(reason)
        self.reason = reason


class Halt(ConsumerOutcome):
    """Stop this consumer; the backlog is kept, and so is the message in hand unless
    ``requeue`` is False (it is then finished, as done, before the consumer stops)."""

    def __init__(self, reason: str = "halted by consumer", requeue: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.requeue = requeue


class Reject(ConsumerOutcome):
    """This message can never be handled: dead-letter it now, without the remaining attempts
    (its reason is the dead letter's error)."""

    def __init__(self, reason: str = "rejected by consumer") -> None:
        super().__init__(reason)
        self.reason = reason


class Unavailable(ConsumerOutcome):
    """Something this consumer needs is down (its database, a remote service): the message is
    not at fault. The hub waits (``delay`` seconds, else the retry backoff, capped at
    ``retry.max_delay_s``) and tries it again, as often as it takes: no attempt is counted, so
    nothing is dead-lettered for it; meanwhile the consumer's backlog grows (on disk, or on the
    broker) and ``/ready`` gives ``reason``. Shutdown cuts the wait short: the message is then
    delivered again on the next start."""

    def __init__(self, reason: str = "unavailable", delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay
