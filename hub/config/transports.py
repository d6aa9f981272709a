"""Which transport each part of the configuration uses: checked and resolved once.

Runs on the main thread at start-up (and on the reactor at reload), after `hub.config.validate`
built the dataclasses. A configuration has ZeroMQ (``endpoints``), AMQP (``amqp``) or both:

- with neither, ``endpoints`` is the missing key;
- an AMQP consumer holds a message unacked while retrying: the retry schedule must end before
  RabbitMQ's 30-minute consumer ack timeout;
- a consumer's ``source`` defaults to the only transport configured and is required when both
  are; it must name a configured one; ``ordered: true`` needs ``source: amqp``;
- ``zmq.curve.sub`` needs ``endpoints``, ``zmq.curve.pub`` a ``publish_endpoint``;
- ``publish_to`` likewise defaults to the only transport, is required with both, and
  ``publish_to: zmq`` needs a ``publish_endpoint``.

The config returned has every ``source`` and ``publish_to`` filled in, so nothing later guesses.
Every error names the key, as the builder's do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from hub.config.schema import ConsumerConfig, HubConfig
from hub.errors import ConfigError

Error = Callable[[tuple[str, ...], str], ConfigError]  # (key path, text) -> the error to raise


def configured(config: HubConfig) -> tuple[str, ...]:
    """The transports this configuration sets up, in a fixed order."""
    return tuple(t for t, on in (("zmq", bool(config.endpoints)), ("amqp", config.amqp)) if on)


def resolve(config: HubConfig, error: Error) -> HubConfig:
    """``config`` with every consumer's ``source`` and ``publish_to`` decided; raise the
    `ConfigError` ``error`` builds for the first key that is wrong."""
    have = configured(config)
    if not have:
        raise error(("endpoints",), "required key is missing (or configure amqp)")
    consumers = {
        name: _consumer(name, consumer, have, error) for name, consumer in config.consumers.items()
    }
    if "amqp" in {c.source for c in consumers.values()}:
        _within_ack_timeout(config, error)
    _curve_sockets(config, error)
    publish_to = _chosen(config.publish_to, have, ("publish_to",), error)
    if config.publish_to == "zmq" and config.publish_endpoint is None:  # said so, not defaulted
        raise error(("publish_to",), "zmq needs publish_endpoint")
    return dataclasses.replace(config, consumers=consumers, publish_to=publish_to)


def _curve_sockets(config: HubConfig, error: Error) -> None:
    """CURVE for a socket the configuration does not open is a mistake, not a no-op."""
    if config.zmq.curve.sub is not None and not config.endpoints:
        raise error(("zmq", "curve", "sub"), "needs endpoints (the SUB socket)")
    if config.zmq.curve.pub is not None and config.publish_endpoint is None:
        raise error(("zmq", "curve", "pub"), "needs publish_endpoint (the PUB socket)")


ACK_TIMEOUT_S = 1800.0  # RabbitMQ's consumer_timeout default: an unacked delivery for longer
# than this closes the channel


def _within_ack_timeout(config: HubConfig, error: Error) -> None:
    """An AMQP consumer keeps a message unacked while it retries: the worst-case schedule must
    end before the broker's ack timeout."""
    worst = config.retry.worst_case_s()
    if worst >= ACK_TIMEOUT_S:
        raise error(("retry",), f"the worst-case retry schedule ({worst:.0f} s) reaches RabbitMQ's "
                    f"consumer ack timeout ({ACK_TIMEOUT_S:.0f} s); AMQP consumers hold a message "
                    "unacked while it is retried: lower max_attempts or max_delay_s")  # fmt: skip


def _consumer(
    name: str, consumer: ConsumerConfig, have: tuple[str, ...], error: Error
) -> ConsumerConfig:
    path = ("consumers", name, "source")
    source = _chosen(consumer.source, have, path, error)
    if consumer.ordered and source != "amqp":
        raise error(("consumers", name, "ordered"), "needs source: amqp (a broker queue)")
    return dataclasses.replace(consumer, source=source)


def _chosen(value: str | None, have: tuple[str, ...], path: tuple[str, ...], error: Error) -> str:
    if value is None:
        if len(have) > 1:
            raise error(path, "required when both endpoints and amqp are configured: zmq or amqp")
        return have[0]
    if value not in have:
        key = "endpoints" if value == "zmq" else "amqp"
        raise error(path, f"{value} is not configured (no {key})")
    return value
