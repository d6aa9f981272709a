"""hub.transports.amqp.frames: routed deliveries read from any split, the rest to pika in order."""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest
from pika import frame, spec

from hub.transports.amqp.frames import FrameReader

CHANNEL, TAG = 1, "ctag-1"


def deliver(
    tag: int,
    body: bytes,
    *,
    consumer: str = TAG,
    channel: int = CHANNEL,
    redelivered: bool = False,
    frame_max: int = 0,
) -> bytes:
    """A basic.deliver with its header and body frames, as RabbitMQ writes them (pika's codec);
    a body longer than ``frame_max`` split over several body frames."""
    headers = {"sent-at": "2026-12-02T10:00:00+00:00", "n": tag}
    props = spec.BasicProperties(
        content_type="application/json", message_id=f"id-{tag}", headers=headers
    )
    method = spec.Basic.Deliver(consumer, tag, redelivered, "amq.topic", "org.x.y")
    parts = [frame.Method(channel, method).marshal(),
             frame.Header(channel, len(body), props).marshal()]  # fmt: skip
    step = frame_max or max(len(body), 1)
    parts += [frame.Body(channel, body[i : i + step]).marshal() for i in range(0, len(body), step)]
    return b"".join(parts)


def heartbeat() -> bytes:
    return bytes(frame.Heartbeat().marshal())


def confirm(tag: int, channel: int = 2) -> bytes:
    return bytes(frame.Method(channel, spec.Basic.Ack(tag)).marshal())


class Recorder:
    """pika's side and the routed consumer's, in one ordered list of events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.taken = [0, 0]
        self.reader = FrameReader(self.pika, self.count)
        self.reader.route(CHANNEL, TAG, self.deliver)

    def pika(self, data: bytes) -> None:
        self.events.append(("pika", data))

    def count(self, count: int, frames: int) -> None:
        self.taken[0] += count
        self.taken[1] += frames

    def deliver(self, tag: int, redelivered: bool, key: str, props: Any, body: bytes) -> None:
        self.events.append(("hub", (tag, redelivered, key, props.message_id, props.headers, body)))

    def feed(self, stream: bytes, cuts: list[int]) -> None:
        for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            self.reader.feed(stream[a:b])

    def to_pika(self) -> bytes:
        return b"".join(data for who, data in self.events if who == "pika")

    def hub(self) -> list[Any]:
        return [what for who, what in self.events if who == "hub"]


def test_a_routed_delivery_is_read_whole_from_every_split_and_pika_gets_nothing() -> None:
    """Fed in two pieces at every cut, one byte at a time and at once: one delivery, fields
    intact, no byte for pika, every byte and frame counted for its heartbeat checker."""
    stream = deliver(7, b'{"a": 1}', redelivered=True)
    splits = [[], *([c] for c in range(1, len(stream))), list(range(1, len(stream)))]
    for cuts in splits:
        r = Recorder()
        r.feed(stream, cuts)
        headers = {"sent-at": "2026-12-02T10:00:00+00:00", "n": 7}
        assert r.hub() == [(7, True, "org.x.y", "id-7", headers, b'{"a": 1}')], cuts
        assert r.to_pika() == b"" and r.taken == [len(stream), 3]


def test_other_frames_go_to_pika_unchanged_and_before_the_deliveries_after_them() -> None:
    """Heartbeats, a confirm on another channel and a delivery for a tag not routed reach pika
    byte for byte, each before any routed delivery that followed it in the stream."""
    other = deliver(3, b"{}", consumer="not-routed")
    stream = (heartbeat() + deliver(1, b"{}") + confirm(9) + other + heartbeat()
              + deliver(2, b"[]"))  # fmt: skip
    rng = random.Random(4)
    for _ in range(50):
        r = Recorder()
        r.feed(stream, sorted(rng.sample(range(1, len(stream)), 6)))
        assert r.to_pika() == heartbeat() + confirm(9) + other + heartbeat()
        order = [who if who == "pika" else what[0] for who, what in r.events]
        assert order.index(1) < order.index(2)
        first_pika_after_1 = len(heartbeat()) + len(confirm(9))
        assert b"".join(d for w, d in r.events[: order.index(1)] if w == "pika") == heartbeat()
        pika_before_2 = b"".join(d for w, d in r.events[: order.index(2)] if w == "pika")
        assert len(pika_before_2) == first_pika_after_1 + len(other) + len(heartbeat())


def test_a_body_over_several_frames_and_an_empty_body_are_each_one_delivery() -> None:
    """A 10 kB body in 1 kB frames is joined; a zero-length body needs no body frame."""
    big = bytes(range(256)) * 40
    r = Recorder()
    r.feed(deliver(1, big, frame_max=1000) + deliver(2, b""), [5000])
    assert [(tag, body) for tag, *_, body in r.hub()] == [(1, big), (2, b"")]
    assert r.taken[1] == (2 + 11) + 2


def test_unrouted_and_cancelled_tags_go_back_to_pika() -> None:
    """After ``unroute`` (a cancel) the same tag's deliveries are pika's, as is a tag on a
    channel that was never routed."""
    r = Recorder()
    r.reader.unroute(CHANNEL, TAG)
    stream = deliver(1, b"{}") + deliver(2, b"{}", channel=5)
    r.feed(stream, [])
    assert r.hub() == [] and r.to_pika() == stream and r.reader.routes == {}


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (b"AMQP\x00\x00\x09\x01", "a protocol header"),
        (b"\x01\x00\x01\x00\x00\x00\x01\x00\x00", "no frame end"),
    ],
)
def test_a_stream_that_does_not_parse_is_pikas_from_there_on(bad: bytes, why: str) -> None:
    """What does not parse as frames, and everything after it, goes to pika as it came (pika
    fails the connection as it always would); what came before was read."""
    r = Recorder()
    r.feed(deliver(1, b"{}") + bad + deliver(2, b"{}"), [])
    r.reader.feed(heartbeat())
    assert [what[0] for what in r.hub()] == [1], why
    assert r.to_pika() == bad + deliver(2, b"{}") + heartbeat() and r.reader.passing


def test_a_method_frame_inside_a_delivery_is_logged_and_handed_to_pika(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A broker that breaks the content sequence gets an error line; pika gets the rest."""
    r = Recorder()
    method_only = frame.Method(CHANNEL, spec.Basic.Deliver(TAG, 1, False, "x", "k")).marshal()
    with caplog.at_level(logging.ERROR, "hub.transports.amqp.frames"):
        r.feed(method_only + confirm(4, channel=CHANNEL), [])
    assert r.hub() == [] and r.to_pika() == confirm(4, channel=CHANNEL)
    assert "channel 1 cannot be read: frame type 1 in the middle of a delivery" in caplog.text
