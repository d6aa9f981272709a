"""The on-disk format of one log record: encode, decode, and find the end of the valid ones.

Pure functions, no state: called on the reactor thread (encode, on append; ``scan``, on open)
and on consumer worker threads (``decode_payload``, reading back).

A record is a 16-byte header ``<IIQ`` (payload length, CRC-32 of payload, seq) followed by the
payload: ``<dH`` received_at and target length, target (a consumer name for replayed dead
letters, else empty), ``<I`` topic length, topic, then the envelope bytes exactly as received.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import NamedTuple

HEADER = struct.Struct("<IIQ")
META = struct.Struct("<dH")
TOPIC_LEN = struct.Struct("<I")


class Record(NamedTuple):
    """One message as stored: its seq, when it arrived, who it is for, and its two frames."""

    seq: int
    received_at: float
    target: str
    topic: bytes
    envelope: bytes


def encode_record(seq: int, received_at: float, target: str, topic: bytes, env: bytes) -> bytes:
    """The bytes of one record (header + payload)."""
    name = target.encode("utf-8")
    payload = b"".join(
        (META.pack(received_at, len(name)), name, TOPIC_LEN.pack(len(topic)), topic, env)
    )
    return HEADER.pack(len(payload), zlib.crc32(payload), seq) + payload


def decode_payload(seq: int, payload: bytes) -> Record:
    """The `Record` behind a checked payload."""
    received_at, name_len = META.unpack_from(payload, 0)
    at = META.size
    target = payload[at : at + name_len].decode("utf-8")
    at += name_len
    (topic_len,) = TOPIC_LEN.unpack_from(payload, at)
    at += TOPIC_LEN.size
    return Record(seq, received_at, target, payload[at : at + topic_len], payload[at + topic_len :])


def scan(path: Path) -> tuple[int, int | None]:
    """(offset just past the last whole, valid record; its seq or None) of one segment."""
    good, last = 0, None
    with path.open("rb") as f:
        while True:
            head = f.read(HEADER.size)
            if len(head) < HEADER.size:
                return good, last
            size, crc, seq = HEADER.unpack(head)
            payload = f.read(size)
            if len(payload) < size or zlib.crc32(payload) != crc:
                return good, last
            good, last = good + HEADER.size + size, seq
