"""hub.transports.zeromq.codec: the fedmsg wire format, and every way a message can be malformed."""

from __future__ import annotations

import orjson
import pytest

from hub.data import load_samples
from hub.errors import DecodeError
from hub.transports.zeromq.codec import CAUSES, Encoder, decode, encode_envelope

T = b"org.fedoraproject.prod.x"


def frames(envelope: object, topic: bytes = T) -> list[bytes]:
    return [topic, orjson.dumps(envelope)]


def test_every_sample_decodes_to_its_topic_and_body() -> None:
    """All 401 bundled real envelopes decode, keeping topic, body and msg_id."""
    for sample in load_samples():
        message = decode(encode_envelope(sample), 1 << 20, 1.0)
        assert message.topic == sample["topic"]
        assert message.body == sample["msg"]
        assert message.msg_id == sample.get("msg_id")


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        ([T], "frames"),
        ([T, b"{}", b"x"], "frames"),
        ([T, b'{"msg": "\xff"}'], "utf8"),
        ([b"\xc3(", b'{"msg": 1}'], "utf8"),
        ([T, b'{"msg": '], "json"),
        ([T, b"null"], "not_object"),
        ([T, b'{"topic": "org.fedoraproject.prod.x"}'], "no_msg"),
        ([T, b'{"topic": "y", "msg": 1}'], "topic_mismatch"),
        ([T, b'{"msg": "' + b"x" * 100 + b'"}'], "oversize"),
    ],
)
def test_malformed_input_raises_decode_error_with_its_cause(raw: list[bytes], cause: str) -> None:
    """Each malformation is reported under its own counted cause."""
    with pytest.raises(DecodeError) as info:
        decode(raw, 64, 0.0)
    assert info.value.cause == cause
    assert cause in CAUSES


def test_envelope_without_topic_takes_the_frame_topic() -> None:
    """An envelope with no topic key is accepted under the topic frame."""
    assert decode(frames({"msg": {}}), 1000, 0.0).topic == T.decode()


def test_encoder_builds_a_complete_fedmsg_envelope() -> None:
    """Encoder output decodes again with a msg_id, a growing i and a timestamp."""
    encoder = Encoder(username="bot", hostname="h")
    first = decode(encoder.encode("a.b", {"k": 1}), 1000, 0.0)
    second = decode(encoder.encode("a.b", {"k": 2}), 1000, 0.0)
    assert first.body == {"k": 1} and first.msg_id and first.timestamp
    assert (first.envelope["i"], second.envelope["i"]) == (1, 2)
    assert first.envelope["username"] == "bot"


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        ([b"a" * 11, b'{"msg": 1}'], "topic_length"),
        ([b"a.b", b'{"msg": [[[[1]]]]}'], "depth"),
        ([b"a" * 11, b'{"msg": [[[[' + b"1" * 200 + b"]]]]}"], "oversize"),  # size first
    ],
)
def test_limits_are_checked_before_decoding(raw: list[bytes], cause: str) -> None:
    """Topic length, nesting depth and size each refuse a message under their own cause."""
    with pytest.raises(DecodeError) as info:
        decode(raw, 200, 0.0, max_topic_bytes=10, max_depth=4)
    assert info.value.cause == cause
    assert cause in CAUSES


def test_a_message_at_every_limit_decodes() -> None:
    """Exactly max_topic_bytes and exactly max_depth deep is still accepted."""
    message = decode([b"a" * 10, b'{"msg": [[[1]]]}'], 200, 0.0, max_topic_bytes=10, max_depth=4)
    assert message.body == [[[1]]]
