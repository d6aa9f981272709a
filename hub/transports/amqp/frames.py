"""The consuming channel's deliveries read off the socket's bytes; every other frame to pika.

Runs on the reactor thread: `HubProtocol.dataReceived` (`hub.transports.amqp.protocol`) feeds
each read to `FrameReader.feed`.

pika's own path for a delivery costs more than the frame decoding itself: its frame buffer is
sliced once a frame, each frame goes through the connection's and then the channel's dispatch,
a content assembler and the adapter's callback wrapper. This reader splits the bytes into
frames (AMQP 0-9-1: type, channel, size, payload, ``0xCE``) and takes for itself only a
``basic.deliver`` on a channel and consumer tag that `route` named, with the header and body
frames that follow it on that channel; the properties are decoded by pika's codec
(``pika.spec.BasicProperties``). Every other frame (heartbeats, RPC replies, confirms, a
delivery for a tag not routed or cancelled, anything unexpected) is handed to pika unchanged
and in order, so pika keeps its state, its error handling and its heartbeats (the bytes taken
here are added to the connection's ``bytes_received``, which pika's heartbeat checker reads).

A stream that does not parse as frames (a protocol header, a bad frame end, a content frame
that cannot be decoded) is handed to pika whole from that point on, and pika fails it as it
always would.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pika import spec

log = logging.getLogger(__name__)

METHOD, HEADER, BODY, HEARTBEAT = 1, 2, 3, 8
KINDS = (METHOD, HEADER, BODY, HEARTBEAT)
FRAME_END = 0xCE
DELIVER = struct.pack(">HH", spec.Basic.Deliver.INDEX >> 16, spec.Basic.Deliver.INDEX & 0xFFFF)
_FRAME = struct.Struct(">BHL")  # type, channel, payload size
_TAG = struct.Struct(">QB")  # delivery tag, redelivered bit
_SIZE = struct.Struct(">Q")  # body size, after class id and weight

# delivery tag, redelivered, routing key, properties (pika.spec.BasicProperties), body
OnDeliver = Callable[[int, bool, str, Any, bytes], None]


class FrameError(Exception):
    """A content frame of a routed delivery that cannot be decoded."""


@dataclass
class _Content:
    """A routed delivery whose header or body frames are still to come."""

    on_deliver: OnDeliver
    tag: int
    redelivered: bool
    routing_key: str
    properties: Any = None
    size: int = -1  # body size, from the header frame
    parts: list[bytes] = field(default_factory=list)
    got: int = 0


class FrameReader:
    """Splits the broker's bytes into frames; routed deliveries to their callables."""

    def __init__(self, to_pika: Callable[[bytes], None], taken: Callable[[int, int], None]):
        self.to_pika = to_pika  # pika's adapter: ``data_received``
        self.taken = taken  # (bytes, frames) read here and not by pika
        self.routes: dict[int, dict[str, OnDeliver]] = {}  # channel -> consumer tag -> callable
        self.passing = False  # True once the stream did not parse: all of it to pika
        self.delivered = 0  # deliveries read here
        self._rest = b""  # a partial frame, from the last read
        self._content: dict[int, _Content] = {}  # channel -> the delivery being read
        self._bytes = self._frames = 0  # read here during this feed

    def route(self, channel: int, consumer_tag: str, on_deliver: OnDeliver) -> None:
        """Deliveries for ``consumer_tag`` on ``channel`` go to ``on_deliver`` from now on."""
        self.routes.setdefault(channel, {})[consumer_tag] = on_deliver

    def unroute(self, channel: int, consumer_tag: str | None = None) -> None:
        """Deliveries for ``consumer_tag`` (every tag, if None) on ``channel`` go to pika again."""
        tags = self.routes.get(channel, {})
        if consumer_tag is None:
            tags.clear()
        else:
            tags.pop(consumer_tag, None)
        if not tags:
            self.routes.pop(channel, None)

    def feed(self, data: bytes) -> None:
        """One read from the socket."""
        if self.passing:
            self.to_pika(data)
            return
        buf = self._rest + data if self._rest else data
        end, off, start = len(buf), 0, 0
        while end - off >= 8:
            kind, channel, size = _FRAME.unpack_from(buf, off)
            stop = off + size + 8
            if kind not in KINDS:  # a protocol header (the broker refused our version)
                return self._pass(buf, start)
            if stop > end:
                break
            if buf[stop - 1] != FRAME_END:
                return self._pass(buf, start)
            if channel in self._content or (kind == METHOD and channel in self.routes):
                start = self._frame(buf, kind, channel, (start, off, stop))
                if start < 0:
                    return None
            off = stop
        if start < off:
            self.to_pika(buf[start:off])
        self._rest = buf[off:]
        self._count()
        return None

    def _frame(self, buf: bytes, kind: int, channel: int, at: tuple[int, int, int]) -> int:
        """A frame that may be ours, from ``off`` to ``stop``; pika's frames from ``start`` go
        first. Returns where pika's next frames start, or -1 when the stream went to pika."""
        start, off, stop = at
        if start < off:
            self.to_pika(buf[start:off])
            start = off
        try:
            took = self._take(kind, channel, buf, off + 7, stop - 1)
        except (FrameError, struct.error, UnicodeDecodeError, IndexError) as exc:
            log.error("AMQP frame on channel %d cannot be read: %s; pika reads the rest",
                      channel, exc)  # fmt: skip
            self._pass(buf, off)
            return -1
        if not took:
            return start
        self._bytes += stop - off
        self._frames += 1
        return stop

    def _count(self) -> None:
        if self._bytes:
            self.taken(self._bytes, self._frames)
            self._bytes = self._frames = 0

    def _pass(self, buf: bytes, start: int) -> None:
        """The stream does not parse as this reader expects: pika gets it all from ``start``."""
        self.passing = True
        self._rest = b""
        self._count()
        self.to_pika(buf[start:])

    def _take(self, kind: int, channel: int, buf: bytes, at: int, end: int) -> bool:
        """Read one frame's payload ``buf[at:end]`` if it is ours; False: pika's."""
        content = self._content.get(channel)
        if content is None:
            return buf[at : at + 4] == DELIVER and self._deliver(channel, buf, at + 4)
        if kind == HEADER and content.size < 0:
            content.size = _SIZE.unpack_from(buf, at + 4)[0]
            content.properties = spec.BasicProperties()
            content.properties.decode(buf[at + 12 : end])
        elif kind == BODY and content.size >= 0:
            content.parts.append(buf[at:end])
            content.got += end - at
        else:
            raise FrameError(f"frame type {kind} in the middle of a delivery")
        if content.got >= content.size >= 0:
            del self._content[channel]
            self.delivered += 1
            body = content.parts[0] if len(content.parts) == 1 else b"".join(content.parts)
            content.on_deliver(
                content.tag, content.redelivered, content.routing_key, content.properties, body
            )
        return True

    def _deliver(self, channel: int, buf: bytes, at: int) -> bool:
        """A ``basic.deliver``: ours if its consumer tag is routed (its content follows)."""
        length = buf[at]
        consumer_tag = buf[at + 1 : at + 1 + length].decode()
        on_deliver = self.routes[channel].get(consumer_tag)
        if on_deliver is None:
            return False
        at += 1 + length
        tag, redelivered = _TAG.unpack_from(buf, at)
        at += 9 + 1 + buf[at + 9]  # past the exchange's name
        key = buf[at + 1 : at + 1 + buf[at]].decode()
        self._content[channel] = _Content(on_deliver, tag, bool(redelivered & 1), key)
        return True
