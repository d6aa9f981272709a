"""hub.transports.amqp.wire: fedora-messaging's wire format, checked against the library itself."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
from fedora_messaging import config as fm_config
from fedora_messaging import message as fm
from pika.spec import BasicProperties

from hub.errors import DecodeError
from hub.message import Message
from hub.transports.amqp.errors import EncodeError
from hub.transports.amqp.wire import CAUSES, WARNING, About, decode, encode, forwarded
from hub.transports.base import BRIDGED

TOPIC = "org.fedoraproject.prod.bodhi.update.comment"
BODY = {"agent": "bowlofeggs", "comment": {"text": "ça marche ✓"}, "n": [1, 2.5, None]}
WHEN = dt.datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=dt.UTC)


class BadgeMessage(fm.Message):
    """A schema with filter objects, registered in fedora-messaging's registry by a fixture."""

    severity = WARNING

    @property
    def usernames(self) -> list[str]:
        return ["alice", "bob"]

    @property
    def packages(self) -> list[str]:
        return ["python-requests"]

    @property
    def groups(self) -> list[str]:
        return ["packager"]


@pytest.fixture
def badge_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """BadgeMessage as the installed schema ``hubtest.badge`` of package ``hubtest_schemas``."""
    fm.load_message_classes()
    monkeypatch.setitem(fm._schema_name_to_class, "hubtest.badge", BadgeMessage)
    monkeypatch.setitem(fm._class_to_schema_name, BadgeMessage, "hubtest.badge")
    monkeypatch.setitem(fm._schema_name_to_package, "hubtest.badge", "hubtest_schemas")
    yield "hubtest.badge"


def fm_delivery(message: fm.Message) -> tuple[str, BasicProperties, bytes]:
    """What a broker delivers for a message fedora-messaging published."""
    return message._encoded_routing_key, message._properties, message._encoded_body


def test_a_fedora_messaging_message_decodes_with_topic_body_id_and_headers() -> None:
    """The library's own serialisation becomes a Message with its topic, body, id, headers."""
    original = fm.Message(body=BODY, topic=TOPIC)
    message = decode(*fm_delivery(original), max_bytes=1 << 20, received_at=5.0)
    assert (message.topic, message.body, message.msg_id) == (TOPIC, BODY, original.id)
    assert message.envelope["headers"] == original._headers
    sent_at = dt.datetime.fromisoformat(str(original._headers["sent-at"]))
    assert message.timestamp == sent_at.timestamp()
    assert message.envelope["topic"] == TOPIC and message.received_at == 5.0


def test_filter_headers_and_severity_of_a_schema_survive_decoding(badge_schema: str) -> None:
    """A schema's user/rpm/group headers and severity reach the envelope's headers as sent."""
    original = BadgeMessage(body={"badge": "x"}, topic="org.fedoraproject.prod.badges.award")
    headers = decode(*fm_delivery(original), 1 << 20, 0.0).envelope["headers"]
    assert headers["fedora_messaging_schema"] == badge_schema
    assert headers["fedora_messaging_user_alice"] is True
    assert headers["fedora_messaging_rpm_python-requests"] is True
    assert headers["fedora_messaging_severity"] == WARNING


def test_our_encoding_is_what_fedora_messaging_writes_byte_for_byte(badge_schema: str) -> None:
    """Same id and send time: identical properties frame and body bytes to the library's."""
    theirs = BadgeMessage(body=BODY, topic=TOPIC)
    theirs.id = str(uuid.uuid4())
    theirs._headers["sent-at"] = WHEN.replace(microsecond=0).isoformat()
    ours = encode(
        TOPIC, BODY, schema=badge_schema, schema_package="hubtest_schemas", severity=WARNING,
        about=About(usernames=["alice", "bob"], packages=["python-requests"], groups=["packager"]),
        sent_at=WHEN, message_id=theirs.id,
    )  # fmt: skip
    assert ours.properties.encode() == theirs._properties.encode()
    assert ours.body == theirs._encoded_body and ours.routing_key == theirs._encoded_routing_key


def test_base_message_defaults_match_the_library_with_a_publish_priority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """base.message, its package, INFO and a configured priority: as the library sets them."""
    monkeypatch.setitem(fm_config.conf, "publish_priority", 7)
    theirs = fm.Message(body=BODY, topic=TOPIC)
    ours = encode(TOPIC, BODY, priority=7, sent_at=WHEN, message_id=theirs.id)
    theirs._headers["sent-at"] = ours.properties.headers["sent-at"]
    assert ours.properties.encode() == theirs._properties.encode()
    assert ours.properties.headers["fedora_messaging_schema_package"] == "fedora_messaging"


def test_what_we_encode_is_accepted_and_validated_by_fedora_messaging(badge_schema: str) -> None:
    """The library's get_message() rebuilds our message and its validate() passes."""
    ours = encode(TOPIC, BODY, schema=badge_schema, about=About(usernames=["carol"]))
    theirs = fm.get_message(ours.routing_key, ours.properties, ours.body)
    theirs.validate()
    assert isinstance(theirs, BadgeMessage)
    assert (theirs.topic, theirs.body, theirs.id) == (TOPIC, BODY, ours.properties.message_id)
    assert uuid.UUID(theirs.id).version == 4
    assert theirs._headers["fedora_messaging_user_carol"] is True
    sent_at = str(theirs._headers["sent-at"])
    assert sent_at.endswith("+00:00") and "." not in sent_at


def test_encode_then_decode_round_trips() -> None:
    """decode(encode(...)) gives back topic, body, id, and sent-at as the timestamp."""
    ours = encode(TOPIC, BODY, sent_at=WHEN)
    message = decode(ours.routing_key, ours.properties, ours.body, 1 << 20, 0.0)
    assert (message.topic, message.body) == (TOPIC, BODY)
    assert message.msg_id == ours.properties.message_id
    assert message.timestamp == WHEN.replace(microsecond=0).timestamp()
    assert message.size == len(TOPIC) + len(ours.body)


def props(**overrides: Any) -> BasicProperties:
    fields: dict[str, Any] = {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "headers": {"fedora_messaging_schema": "base.message", "fedora_messaging_severity": 20},
        "message_id": "m-1",
    }
    fields.update(overrides)
    return BasicProperties(**fields)


@pytest.mark.parametrize(
    ("key", "properties", "body", "cause"),
    [
        ("a.b", props(), b'{"k": "' + b"x" * 100 + b'"}', "oversize"),
        (b"a.\xff", props(), b"{}", "utf8"),
        ("a.b", props(), b'{"k": "\xff"}', "utf8"),
        ("a.b", props(content_encoding="latin-1"), b"{}", "encoding"),
        ("a.b", props(content_encoding="gzip"), b"{}", "encoding"),
        ("a.b", props(), b'{"k": ', "json"),
        ("a.b", props(), b"[1, 2]", "not_object"),
        ("a.b", props(), b'"text"', "not_object"),
        ("a.b", props(headers={"fedora_messaging_severity": 25}), b"{}", "headers"),
        ("a.b", props(headers={"fedora_messaging_severity": "20"}), b"{}", "headers"),
        ("a.b", props(headers={"fedora_messaging_severity": True}), b"{}", "headers"),
        ("a.b", props(headers={"sent-at": 1714566645}), b"{}", "headers"),
        ("a.b", props(headers={"fedora_messaging_schema": 3}), b"{}", "headers"),
    ],
)
def test_a_malformed_delivery_is_rejected_under_its_cause(
    key: str | bytes, properties: BasicProperties, body: bytes, cause: str
) -> None:
    """Each malformation raises DecodeError with its own counted cause."""
    with pytest.raises(DecodeError) as info:
        decode(key, properties, body, 64, 0.0)
    assert info.value.cause == cause and cause in CAUSES


def test_what_fedora_messaging_would_reject_we_reject_too() -> None:
    """A severity outside 10-40 fails the library's validation as it fails our decode."""
    bad = props(headers={"fedora_messaging_severity": 25})
    with pytest.raises(fm.ValidationError):
        fm.get_message("a.b", bad, b"{}")
    with pytest.raises(DecodeError):
        decode("a.b", bad, b"{}", 1 << 20, 0.0)


def test_a_delivery_with_no_headers_or_encoding_is_accepted_as_the_library_does() -> None:
    """No headers, no content encoding, no message id: accepted (UTF-8, INFO), no timestamp."""
    message = decode("a.b", BasicProperties(), b'{"k": 1}', 1 << 20, 0.0)
    assert (message.body, message.msg_id, message.timestamp) == ({"k": 1}, None, None)
    assert message.envelope["headers"] == {}
    assert decode("a.b", props(content_encoding="UTF-8"), b"{}", 1 << 20, 0.0).body == {}


@pytest.mark.parametrize(
    ("sent_at", "timestamp"),
    [
        ("2024-05-01T12:30:45+00:00", 1714566645.0),
        ("2024-05-01T14:30:45+02:00", 1714566645.0),
        ("2024-05-01T12:30:45", 1714566645.0),  # naive: UTC
        ("2024-05-01T12:30:45Z", 1714566645.0),
        ("yesterday", None),
    ],
)
def test_timestamp_comes_from_sent_at(sent_at: str, timestamp: float | None) -> None:
    """sent-at in any ISO 8601 offset gives the epoch timestamp; an unparsable one gives none."""
    headers = {"sent-at": sent_at, "fedora_messaging_severity": 20}
    assert decode("a.b", props(headers=headers), b"{}", 1 << 20, 0.0).timestamp == timestamp


def test_header_values_amqp_allows_become_json_safe() -> None:
    """bytes, Decimal, datetime and nested tables in headers still serialise with orjson."""
    odd = {"b": b"\xffraw", "d": Decimal("1.5"), "t": dt.datetime(2024, 1, 1), "n": {"l": [b"x"]}}
    message = decode("a.b", props(headers=odd), b"{}", 1 << 20, 0.0)
    assert orjson.loads(orjson.dumps(message.envelope))["headers"]["n"] == {"l": ["x"]}
    assert message.envelope["headers"]["d"] == 1.5


@pytest.mark.parametrize(
    ("topic", "body", "kwargs", "detail"),
    [
        ("a.b", [1], {}, "JSON objects"),
        ("a.b", {"x": float("nan")}, {}, "cannot be encoded"),
        ("a.b", {"x": object()}, {}, "cannot be encoded"),
        ("a.b", {}, {"severity": 25}, "severity"),
        ("a." + "b" * 300, {}, {}, "255"),
        ("a.\udc80", {}, {}, "UTF-8"),
        ("a.b", {}, {"priority": 300}, "priority"),
        ("a.b", {}, {"headers": {"x": object()}}, "cannot be encoded"),
    ],
)
def test_encode_refuses_what_the_wire_cannot_carry(
    topic: str, body: Any, kwargs: dict[str, Any], detail: str
) -> None:
    """A non-object body, NaN, a bad severity, topic or priority: EncodeError saying which."""
    with pytest.raises(EncodeError, match=detail):
        encode(topic, body, **kwargs)


def test_a_fedmsg_message_forwarded_keeps_topic_body_id_and_time_and_fedora_messaging_reads_it(
) -> None:  # fmt: skip
    """forwarded(): a ZeroMQ envelope becomes fedora-messaging's format with its own msg_id,
    sent-at from its timestamp (whole seconds) and the bridge marker; the library validates it."""
    envelope = {"topic": TOPIC, "msg": BODY, "msg_id": "2024-1b2c", "i": 3,
                "timestamp": WHEN.timestamp(), "username": "apache", "crypto": "x509"}  # fmt: skip
    sent = forwarded(Message(TOPIC, envelope), BRIDGED)
    theirs = fm.get_message(sent.routing_key, sent.properties, sent.body)
    theirs.validate()
    assert (theirs.topic, theirs.body, theirs.id) == (TOPIC, BODY, "2024-1b2c")
    assert theirs._headers[BRIDGED] == "amqp"
    back = decode(sent.routing_key, sent.properties, sent.body, 1 << 20, 0.0)
    assert back.timestamp == WHEN.replace(microsecond=0).timestamp()


def test_an_amqp_message_forwarded_keeps_its_schema_severity_and_filter_headers(
    badge_schema: str,
) -> None:
    """forwarded() of a decoded fedora-messaging delivery keeps schema, package, severity and
    the filter headers (it is still a BadgeMessage), and replaces only sent-at's source."""
    theirs = BadgeMessage(topic=TOPIC, body=BODY)
    message = decode(*fm_delivery(theirs), 1 << 20, 0.0)
    sent = forwarded(message, BRIDGED)
    again = fm.get_message(sent.routing_key, sent.properties, sent.body)
    assert isinstance(again, BadgeMessage) and again.id == theirs.id
    headers = sent.properties.headers
    assert headers["fedora_messaging_schema_package"] == "hubtest_schemas"
    assert headers["fedora_messaging_severity"] == WARNING
    assert headers["fedora_messaging_user_alice"] is True
    assert headers["sent-at"] == theirs._headers["sent-at"]
