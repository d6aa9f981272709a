"""fedora-messaging's wire format: an AMQP delivery <-> the hub's `Message`, both ways.

Runs on the reactor thread (`decode`, once per delivery; `forwarded`, for ``hub.forward()``)
and on any thread (`encode`, for ``hub.publish()``). Pure: no I/O, no logging, no state. A malformed
delivery raises one `hub.errors.DecodeError` whose ``cause`` is the name it is counted under
(`CAUSES`; the names `hub.codec` also uses mean the same thing there); the transport rejects it
without requeue.

The format (fedora-messaging's ``Message._build_properties`` and docs/api/wire-format.rst):
routing key = topic; body = the JSON object, UTF-8; properties ``content_type``
``application/json``, ``content_encoding`` ``utf-8``, ``delivery_mode`` 2, ``message_id`` a
uuid4, ``priority`` (None unless set), and headers, in this order: any extra headers, then
``fedora_messaging_schema`` (``base.message`` unless named), ``fedora_messaging_schema_package``
(``fedora_messaging`` for ``base.message``, else only when known), ``sent-at`` (ISO 8601, UTC,
no microseconds), ``fedora_messaging_severity`` (10/20/30/40), ``priority`` (0 when unset), then
``fedora_messaging_<user|group|rpm|container|module|flatpak>_<name>: True`` per object the
message is about.

A decoded delivery becomes the envelope a fedmsg consumer knows: ``topic``, ``msg`` (the body),
``timestamp`` (seconds since the epoch, from ``sent-at``, when it parses), ``msg_id`` (the
AMQP message id) and ``headers`` (JSON-safe copies of the AMQP headers).
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import orjson
from pika.exceptions import AMQPError
from pika.spec import BasicProperties

from hub.errors import DecodeError
from hub.message import Message
from hub.transports.amqp.errors import EncodeError

# Every cause a delivery can be rejected for, in the order they are checked.
CAUSES = ("oversize", "utf8", "encoding", "json", "not_object", "headers")
DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
SEVERITIES = (DEBUG, INFO, WARNING, ERROR)
BASE_SCHEMA = "base.message"
BASE_SCHEMA_PACKAGE = "fedora_messaging"
MAX_ROUTING_KEY_BYTES = 255
MAX_PRIORITY = 255
# fedora-messaging's base header schema: these headers, when present, must have these types.
_STRING_HEADERS = ("fedora_messaging_schema", "fedora_messaging_schema_package", "sent-at")


@dataclass(frozen=True)
class About:
    """What a message is about: each name becomes a ``fedora_messaging_<kind>_<name>`` header."""

    usernames: Sequence[str] = ()
    groups: Sequence[str] = ()
    packages: Sequence[str] = ()
    containers: Sequence[str] = ()
    modules: Sequence[str] = ()
    flatpaks: Sequence[str] = ()

    def headers(self) -> dict[str, bool]:
        """The filter headers, in fedora-messaging's order (user, group, rpm, ...)."""
        kinds = (
            ("user", self.usernames), ("group", self.groups), ("rpm", self.packages),
            ("container", self.containers), ("module", self.modules), ("flatpak", self.flatpaks),
        )  # fmt: skip
        return {f"fedora_messaging_{kind}_{name}": True for kind, names in kinds for name in names}


class Encoded(NamedTuple):
    """What to hand to ``basic_publish``: the routing key, the properties and the body."""

    routing_key: str
    properties: BasicProperties
    body: bytes


def decode(
    routing_key: str | bytes,
    properties: BasicProperties,
    body: bytes,
    max_bytes: int,
    received_at: float,
) -> Message:
    """Validate and decode one delivery; raise `DecodeError` naming the cause."""
    raw_key = routing_key if isinstance(routing_key, bytes) else routing_key.encode("utf-8")
    size = len(raw_key) + len(body)
    if size > max_bytes:
        raise DecodeError("oversize", f"{size} bytes is over the limit of {max_bytes}")
    if isinstance(routing_key, bytes):
        raise DecodeError("utf8", "routing key is not UTF-8")
    _check_encoding(properties.content_encoding)
    payload = _load_json(body)
    if not isinstance(payload, dict):
        raise DecodeError("not_object", f"body is a {type(payload).__name__}, not an object")
    headers = _safe_headers(properties.headers or {})
    _check_headers(headers)
    envelope: dict[str, Any] = {"topic": routing_key, "msg": payload}
    timestamp = _parse_sent_at(headers.get("sent-at"))
    if timestamp is not None:
        envelope["timestamp"] = timestamp
    if isinstance(properties.message_id, str):
        envelope["msg_id"] = properties.message_id
    envelope["headers"] = headers
    return Message(routing_key, envelope, received_at, size)


def _check_encoding(name: str | None) -> None:
    if name is None:
        return  # fedora-messaging assumes UTF-8 (and logs it)
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        canonical = ""
    if canonical != "utf-8":
        raise DecodeError("encoding", f"content encoding {name!r}, not utf-8")


def _load_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        cause = "utf8" if "UTF-8" in str(exc) or "surrogate" in str(exc) else "json"
        raise DecodeError(cause, str(exc)) from None


def _check_headers(headers: Mapping[str, Any]) -> None:
    """fedora-messaging's base header schema (what its consumers' ``validate()`` checks)."""
    severity = headers.get("fedora_messaging_severity", INFO)
    if isinstance(severity, bool) or severity not in SEVERITIES:
        raise DecodeError("headers", f"fedora_messaging_severity {severity!r} is not one of 10-40")
    for name in _STRING_HEADERS:
        if name in headers and not isinstance(headers[name], str):
            raise DecodeError("headers", f"{name} is a {type(headers[name]).__name__}, not text")


def _parse_sent_at(value: Any) -> float | None:
    """Seconds since the epoch from an ISO 8601 ``sent-at`` (naive means UTC); None if not."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _safe_headers(headers: dict[str, Any]) -> Any:
    """The headers, JSON-safe: copied as they are when every value already is (the usual case:
    the recursive conversion was 3% of a delivery's cost), else `_safe`."""
    if all(type(v) in _PLAIN for v in headers.values()):
        return dict(headers)
    return _safe(headers)


def _safe(value: Any) -> Any:
    """A JSON-serialisable copy of an AMQP table value (bytes, Decimal, datetime become text)."""
    if isinstance(value, dict):
        return {str(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def encode(  # noqa: PLR0913 - fedora-messaging's message fields, keyword-only with defaults
    topic: str,
    body: Any,
    *,
    schema: str = BASE_SCHEMA,
    schema_package: str | None = None,
    severity: int = INFO,
    priority: int | None = None,
    about: About = About(),  # frozen: a shared default is safe
    headers: Mapping[str, Any] | None = None,
    sent_at: dt.datetime | None = None,
    message_id: str | None = None,
) -> Encoded:
    """``body`` on ``topic`` exactly as fedora-messaging's publisher writes it."""
    _check_outgoing(topic, body, severity, priority)
    table: dict[str, Any] = dict(headers or {})
    table["fedora_messaging_schema"] = schema
    package = schema_package or (BASE_SCHEMA_PACKAGE if schema == BASE_SCHEMA else None)
    if package:
        table["fedora_messaging_schema_package"] = package
    table["sent-at"] = _sent_at(sent_at)
    table["fedora_messaging_severity"] = severity
    table["priority"] = priority or 0
    table.update(about.headers())
    properties = BasicProperties(
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        headers=table,
        message_id=message_id or str(uuid.uuid4()),
        priority=priority,
    )
    try:
        properties.encode()
        payload = json.dumps(body, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, AMQPError) as exc:
        raise EncodeError(f"message on {topic!r} cannot be encoded: {exc}") from None
    return Encoded(topic, properties, payload)


def forwarded(message: Message, marker: str) -> Encoded:
    """``message`` (from either transport) sent on as it is: its topic, body and msg_id,
    ``sent-at`` from its timestamp, and its headers (schema, severity and priority kept when
    valid), with ``headers[marker]`` set to ``"amqp"`` (a bridge carried it here)."""
    given = message.envelope.get("headers")
    headers = dict(given) if isinstance(given, dict) else {}
    schema = headers.pop("fedora_messaging_schema", None)
    package = headers.pop("fedora_messaging_schema_package", None)
    severity = headers.pop("fedora_messaging_severity", INFO)
    priority = headers.pop("priority", None)
    for computed in ("sent-at", marker):
        headers.pop(computed, None)
    when = message.timestamp
    return encode(
        message.topic, message.body,
        schema=schema if isinstance(schema, str) and schema else BASE_SCHEMA,
        schema_package=package if isinstance(package, str) and package else None,
        severity=severity if severity in SEVERITIES and not isinstance(severity, bool) else INFO,
        priority=priority if isinstance(priority, int) and 0 < priority <= MAX_PRIORITY else None,
        headers={**headers, marker: "amqp"},
        sent_at=dt.datetime.fromtimestamp(when, tz=dt.UTC) if when is not None else None,
        message_id=message.msg_id,
    )  # fmt: skip


def _check_outgoing(topic: str, body: Any, severity: int, priority: int | None) -> None:
    if not isinstance(body, dict):
        raise EncodeError(f"body is a {type(body).__name__}; fedora-messaging sends JSON objects")
    try:
        key_bytes = len(topic.encode("utf-8"))
    except UnicodeEncodeError:
        raise EncodeError(f"topic {topic!r} is not valid UTF-8") from None
    if key_bytes > MAX_ROUTING_KEY_BYTES:
        raise EncodeError(f"topic is {key_bytes} bytes; AMQP routing keys hold 255")
    if isinstance(severity, bool) or severity not in SEVERITIES:
        raise EncodeError(f"severity {severity!r} is not one of {SEVERITIES}")
    if priority is not None and not (isinstance(priority, int) and 0 <= priority <= MAX_PRIORITY):
        raise EncodeError(f"priority {priority!r} is not an integer from 0 to 255")


def _sent_at(when: dt.datetime | None) -> str:
    """``sent-at`` as fedora-messaging writes it: UTC, whole seconds, ``+00:00``."""
    when = when or dt.datetime.now(tz=dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat()
