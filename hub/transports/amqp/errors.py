"""Typed errors of the AMQP transport.

Runs on any thread: plain classes. `GlobNotBindable` is a configuration error (exit code 3);
the others are raised or errbacked on the reactor thread.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from hub.errors import ConfigError, HubError


class AmqpError(HubError):
    """Base class of the AMQP transport's errors."""


class GlobNotBindable(ConfigError):
    """A consumer's topic glob cannot be bound on an AMQP topic exchange; names the glob."""

    def __init__(self, glob: str, reason: str) -> None:
        super().__init__(f"topic {glob!r} cannot be bound on AMQP: {reason}")
        self.glob = glob
        self.reason = reason


class EncodeError(AmqpError):
    """A message cannot be written in fedora-messaging's wire format (the detail says why)."""


class NotConnected(AmqpError):
    """The operation needs an open AMQP connection and there is none right now."""


class PublishRejected(AmqpError):
    """The broker nacked a published message, or returned it as unroutable."""


def reason_of(value: Any) -> str:
    """A short reason for a log line: a Failure's exception, "timed out" for a timeout."""
    value = getattr(value, "value", value)
    if isinstance(value, defer.TimeoutError | defer.CancelledError):
        return "timed out"
    return repr(value)
