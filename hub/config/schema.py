"""The shape of the configuration: frozen dataclasses, their defaults and their checks.

Runs on the main thread at start-up (and on reload): `hub.config.load` builds these from YAML
through `hub.config.validate`; every other part of the hub only reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hub.config.validate import at_least, octal_mode, one_of, positive

DEFAULT_STATE_DIR = "/var/lib/consumer-hub"
TRANSPORTS = ("zmq", "amqp")
_ENDPOINT = re.compile(r"^(bind:)?(tcp://[^\s:]+:(\d+|\*)|ipc://\S+|inproc://\S+)$")


def _endpoint(value: str) -> None:
    if not _ENDPOINT.match(value):
        raise ValueError(
            "a ZeroMQ endpoint such as tcp://host:port, ipc://path or bind:tcp://*:port"
        )


def _endpoints(values: tuple[str, ...]) -> None:
    for value in values:
        _endpoint(value)


def _amqp_url(value: str) -> None:
    if not value.startswith(("amqp://", "amqps://")):
        raise ValueError("an AMQP URL such as amqp://user:pass@host:5672/%2F or amqps://...")


def _optional_endpoint(value: str | None) -> None:
    if value is not None:
        _endpoint(value)


def _optional_positive(value: int | None) -> None:
    if value is not None and value <= 0:
        raise ValueError("a whole number greater than 0, or null")


def _transport(value: str | None) -> None:
    if value is not None and value not in TRANSPORTS:
        raise ValueError("one of " + ", ".join(TRANSPORTS))


def _optional_positive_s(value: float | None) -> None:
    if value is not None and value <= 0:
        raise ValueError("a number of seconds greater than 0, or null")


def _topics(values: tuple[str, ...] | None) -> None:
    if values is not None and (not values or not all(values)):
        raise ValueError("a non-empty list of non-empty topic patterns")


def _key_paths(values: tuple[str, ...]) -> None:
    if not values or not all(values):
        raise ValueError("a non-empty list of public key files (*.key) or directories of them")


@dataclass(frozen=True)
class CurveSocketConfig:
    """``zmq.curve.sub`` or ``zmq.curve.pub``: the socket is a CURVE server with the hub's key
    pair (``consumer-hub keygen``); only peers whose public key is listed get in."""

    secret_key: str  # the hub's .key_secret file
    allow: tuple[str, ...] = field(metadata={"check": _key_paths})  # *.key files or directories


@dataclass(frozen=True)
class CurveConfig:
    """``zmq.curve``: CURVE for the SUB socket (publishers let in) and the PUB socket
    (subscribers let in), each on its own; a socket with none speaks plain ZeroMQ."""

    sub: CurveSocketConfig | None = None
    pub: CurveSocketConfig | None = None


@dataclass(frozen=True)
class ZmqConfig:
    """Socket options of the SUB socket (and the PUB socket behind ``hub.publish``)."""

    rcvhwm: int = field(default=20_000, metadata={"check": at_least(0)})
    sndhwm: int = field(default=100_000, metadata={"check": at_least(0)})
    reconnect_ivl_ms: int = field(default=100, metadata={"check": positive()})
    reconnect_ivl_max_ms: int = field(default=5_000, metadata={"check": at_least(0)})
    tcp_keepalive: bool = True
    tcp_keepalive_idle_s: int = field(default=60, metadata={"check": positive()})
    tcp_keepalive_interval_s: int = field(default=10, metadata={"check": positive()})
    tcp_keepalive_count: int = field(default=6, metadata={"check": positive()})
    batch_size: int = field(default=250, metadata={"check": positive()})
    curve: CurveConfig = field(default_factory=CurveConfig)


def _local_file(value: str | None) -> None:
    if value is not None and (not value or "://" in value):
        raise ValueError("the path of a local PEM file (fetch a remote one to a file, on a timer)")


@dataclass(frozen=True)
class CryptoConfig:
    """``crypto``: fedmsg's x509 message signatures, under fedmsg's own key names: checked on
    every ZeroMQ message before it is routed, and put on what ``hub.publish()`` sends."""

    validate_signatures: bool = False
    ca_cert_location: str | None = field(default=None, metadata={"check": _local_file})
    crl_location: str | None = field(default=None, metadata={"check": _local_file})
    crl_cache_expiry: float = field(default=3600.0, metadata={"check": positive()})  # CA and CRL
    routing_policy: dict[str, tuple[str, ...]] = field(default_factory=dict)  # topic -> names
    routing_nitpicky: bool = False  # a topic routing_policy does not name is refused
    sign_messages: bool = False
    ssldir: str = "/etc/pki/fedmsg"  # <ssldir>/<certname>.crt and .key sign
    certname: str | None = None


@dataclass(frozen=True)
class StatusConfig:
    """The HTTP status endpoint (/live, /ready, /status, /metrics; /archive/raw when
    ``archive_raw`` names the archive consumer whose database it serves: `hub.config.archive`)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = field(default=9942, metadata={"check": at_least(0)})
    archive_raw: str | None = None
    token_file: str | None = None  # a bearer token for all but /live and /ready: hub.observe.auth
    socket: str | None = None  # a unix socket to listen on instead of host:port
    socket_mode: str = field(default="0660", metadata={"check": octal_mode()})
    socket_group: str | None = None


@dataclass(frozen=True)
class StatsdConfig:
    """Where statsd metrics go; disabled unless ``enabled: true``."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = field(default=8125, metadata={"check": positive()})
    prefix: str | None = None  # None: hub.<host>[.<instance>] (hub.observe.statsd)
    interval_s: float = field(default=10.0, metadata={"check": positive()})
    max_udp_size: int = field(default=512, metadata={"check": at_least(64)})


@dataclass(frozen=True)
class BacklogConfig:
    """The durable backlog (``hub.storage.store``): disk and memory budgets, fsync and commit
    policy."""

    fsync: str = field(
        default="interval", metadata={"check": one_of("always", "interval", "never")}
    )
    fsync_interval_ms: int = field(default=200, metadata={"check": positive()})
    commit_interval_s: float = field(default=1.0, metadata={"check": positive()})
    segment_mb: int = field(default=64, metadata={"check": positive()})
    max_disk_mb: int = field(default=10_240, metadata={"check": positive()})
    memory_budget_mb: int = field(default=200, metadata={"check": positive()})


@dataclass(frozen=True)
class RetryConfig:
    """How a failing message is retried before it becomes a dead letter."""

    max_attempts: int = field(default=5, metadata={"check": positive()})
    initial_delay_s: float = field(default=1.0, metadata={"check": at_least(0)})
    max_delay_s: float = field(default=60.0, metadata={"check": at_least(0)})
    jitter: float = field(default=0.2, metadata={"check": at_least(0)})

    def worst_case_s(self) -> float:
        """The longest a message can wait between its first and last attempt (max jitter)."""
        waits = (
            min(self.max_delay_s, self.initial_delay_s * 2 ** (n - 1))
            for n in range(1, self.max_attempts)
        )
        return float(sum(waits) * (1 + self.jitter))


@dataclass(frozen=True)
class TlsConfig:
    """``amqp.tls``: the CA bundle to trust and an optional client certificate and key."""

    ca_cert: str | None = None
    certfile: str | None = None
    keyfile: str | None = None


@dataclass(frozen=True)
class AmqpConfig:
    """The RabbitMQ side (``amqp:``): where to connect, the exchange, each consumer's queue."""

    url: str = field(metadata={"check": _amqp_url})
    exchange: str = "amq.topic"
    queue_prefix: str = "consumer-hub"
    queue_type: str = field(default="classic", metadata={"check": one_of("classic", "quorum")})
    prefetch: int | None = field(default=None, metadata={"check": _optional_positive})
    tls: TlsConfig | None = None


@dataclass(frozen=True)
class ConsumerConfig:
    """One consumer: which class, how many threads, how big its queue, its own settings."""

    cls: str = field(metadata={"key": "class"})
    enabled: bool = True
    threads: int = field(default=1, metadata={"check": positive("a whole number")})
    queue_size: int = field(default=10_000, metadata={"check": positive("a whole number")})
    topics: tuple[str, ...] | None = field(default=None, metadata={"check": _topics})
    stuck_after_s: float = field(default=300.0, metadata={"check": positive()})
    source: str | None = field(default=None, metadata={"check": _transport})
    ordered: bool = False  # amqp: one hub at a time consumes its queue (single active consumer)
    # consume_batch(): at most this many a call (default 256, never more than queue_size), and
    # how long a batch may wait to fill; only for a class that has consume_batch()
    batch_size: int | None = field(default=None, metadata={"check": _optional_positive})
    batch_wait_s: float = field(default=0.05, metadata={"check": at_least(0)})
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProducerConfig:
    """One producer: which class, how often it polls (overriding the class's ``interval``),
    when a poll counts as stuck (default: its interval), its own settings."""

    cls: str = field(metadata={"key": "class"})
    enabled: bool = True
    interval_s: float | None = field(default=None, metadata={"check": _optional_positive_s})
    stuck_after_s: float | None = field(default=None, metadata={"check": _optional_positive_s})
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HubConfig:
    """Everything the hub needs, validated once and never mutated."""

    endpoints: tuple[str, ...] = field(default=(), metadata={"check": _endpoints})
    consumers: dict[str, ConsumerConfig] = field(default_factory=dict)
    producers: dict[str, ProducerConfig] = field(default_factory=dict)
    publish_endpoint: str | None = field(default=None, metadata={"check": _optional_endpoint})
    amqp: AmqpConfig | None = None
    publish_to: str | None = field(default=None, metadata={"check": _transport})
    zmq: ZmqConfig = field(default_factory=ZmqConfig)
    max_message_bytes: int = field(default=1_048_576, metadata={"check": positive()})
    max_topic_bytes: int = field(default=255, metadata={"check": positive()})  # AMQP's own cap
    max_json_depth: int = field(default=64, metadata={"check": positive()})
    shutdown_timeout_s: float = field(default=30.0, metadata={"check": positive()})
    status: StatusConfig = field(default_factory=StatusConfig)
    state_dir: str = DEFAULT_STATE_DIR  # load_config: $STATE_DIRECTORY first, when systemd sets it
    backlog: BacklogConfig = field(default_factory=BacklogConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    upstream_gaps: bool = True
    statsd: StatsdConfig = field(default_factory=StatsdConfig)
    fedmsg: dict[str, Any] = field(default_factory=dict)  # resolved: `hub.config.fedmsg`
    crypto: CryptoConfig = field(default_factory=CryptoConfig)
    log_level: str = field(  # any case in the file; upper case here
        default="INFO",
        metadata={"normalize": str.upper, "check": one_of("DEBUG", "INFO", "WARNING", "ERROR")},
    )
    source: str = field(default="", compare=False, metadata={"key": "__source__"})

    @property
    def enabled_consumers(self) -> dict[str, ConsumerConfig]:
        """The consumers that run, by name."""
        return {name: c for name, c in self.consumers.items() if c.enabled}

    @property
    def enabled_producers(self) -> dict[str, ProducerConfig]:
        """The producers that run, by name."""
        return {name: p for name, p in self.producers.items() if p.enabled}
