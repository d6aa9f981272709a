"""Reading the durable log back: sequential reads for one consumer.

Runs on that consumer's worker thread (`hub.storage.spool.Spool` reads a spilled backlog through
it), never on the reactor. It only reads records below the sequence number the reactor has
published, so it never meets a record being written; a segment released meanwhile is skipped
by starting again at the oldest one kept. ``close`` runs on the reactor once the consumer's
threads have stopped (`hub.storage.durable`).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from hub.errors import StoreError
from hub.storage.records import HEADER, Record, decode_payload


class SegmentFile(Protocol):
    """One segment file, as a reader needs it (`hub.storage.store.Segment`)."""

    @property
    def first(self) -> int: ...  # the first seq it holds

    @property
    def path(self) -> Path: ...


class Segments(Protocol):
    """What a reader needs of the log (`hub.storage.store.SegmentLog`): its segments, oldest
    first (the reactor appends and removes; the reader copies the list before looking)."""

    @property
    def segments(self) -> Sequence[SegmentFile]: ...


class LogReader:
    """Sequential reads for one consumer, on its worker thread."""

    def __init__(self, store: Segments) -> None:
        self.store = store
        self.position = -1  # the seq the open file is positioned at
        self._file: BinaryIO | None = None

    def read(self, start: int, end: int, limit: int) -> list[Record]:
        """Up to ``limit`` records with start <= seq < end, in order."""
        if start >= end:
            return []
        if self._file is None or self.position != start:
            self._seek(start)
        out: list[Record] = []
        while len(out) < limit and self.position < end:
            record = self._next()
            if record is None:
                self._seek(self.position)  # crossed into the next segment
                record = self._next()
                if record is None:
                    break
            self.position = record.seq + 1
            if record.seq >= start:
                out.append(record)
        return out

    def _seek(self, seq: int) -> None:
        self.close()
        segments = list(self.store.segments)
        chosen = next((s for s in reversed(segments) if s.first <= seq), None)
        if chosen is None:
            chosen = segments[0]
            seq = chosen.first  # older records were deleted: start at the oldest kept
        self._file = chosen.path.open("rb")
        self.position = chosen.first
        while self.position < seq:
            record = self._next()
            if record is None:
                break
            self.position = record.seq + 1

    def _next(self) -> Record | None:
        f = self._file
        assert f is not None
        head = f.read(HEADER.size)
        if len(head) < HEADER.size:
            return None
        size, crc, seq = HEADER.unpack(head)
        payload = f.read(size)
        if len(payload) < size or zlib.crc32(payload) != crc:
            raise StoreError(f"corrupt record at seq {seq} in {f.name}")
        return decode_payload(seq, payload)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
