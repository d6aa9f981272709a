"""The durable backlog on disk: one shared, append-only, segmented log of received messages.

Threads: ``SegmentLog.open``/``append``/``release``/``close`` run on the reactor thread (one
``os.write`` per input batch); a `LogReader` runs on a consumer's worker thread and only reads
records below the sequence number the reactor published; the ``interval`` fsync policy runs on
its own ``store:fsync`` thread (see `hub.fsync`).

Layout: ``<dir>/<first seq, 20 digits>.seg``, each a sequence of records (`hub.records`). A
torn or corrupt tail (a crash mid-write) is truncated away on open; everything before it is
kept. A write the disk refuses part-way is cut off again at once (``_write_all``).
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from hub.errors import HubError
from hub.fsync import Syncer
from hub.records import HEADER, Record, decode_payload, encode_record, scan

log = logging.getLogger(__name__)

SUFFIX = ".seg"


class StoreError(HubError):
    """The log directory cannot be used (unreadable, not writable, corrupt beyond repair)."""


@dataclass(frozen=True)
class Segment:
    """One segment file, named by the first seq it holds."""

    first: int
    path: Path


def list_segments(directory: Path) -> list[Segment]:
    """The segments in ``directory``, oldest first."""
    found = []
    for path in directory.glob("*" + SUFFIX):
        try:
            found.append(Segment(int(path.stem), path))
        except ValueError:
            log.warning("store: ignoring stray file %s", path)
    return sorted(found, key=lambda s: s.first)


class SegmentLog:
    """Append batches, hand out readers, delete segments every consumer has finished with."""

    def __init__(
        self, directory: Path, segment_bytes: int, fsync: str, fsync_interval_ms: int
    ) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.fsync = fsync  # "always" | "interval" | "never"
        self.syncer = Syncer(fsync_interval_ms / 1000.0)
        self.segments: list[Segment] = []
        self.next_seq = 0
        self.disk_bytes = 0
        self.writes = 0
        self._fd = -1
        self._size = 0

    def open(self, min_next_seq: int = 0) -> None:
        """Recover the log (truncating a torn tail) and open the last segment for appending."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.segments = list_segments(self.directory)
            self._recover_tail(min_next_seq)
        except OSError as exc:
            raise StoreError(f"cannot open the log in {self.directory}: {exc}") from exc
        self.disk_bytes = sum(s.path.stat().st_size for s in self.segments)
        if self.fsync == "interval":
            self.syncer.start()
        log.info("store: %d segment(s), %d bytes, next seq %d in %s", len(self.segments),
                 self.disk_bytes, self.next_seq, self.directory)  # fmt: skip

    def _recover_tail(self, min_next_seq: int) -> None:
        if not self.segments:
            self.next_seq = min_next_seq
            self._new_segment()
            return
        tail = self.segments[-1]
        good, last = scan(tail.path)
        size = tail.path.stat().st_size
        if good < size:
            log.warning("store: %s: truncating a torn tail of %d byte(s) at offset %d",
                        tail.path, size - good, good)  # fmt: skip
            os.truncate(tail.path, good)
        self.next_seq = max(min_next_seq, tail.first if last is None else last + 1)
        self._fd = os.open(tail.path, os.O_WRONLY | os.O_APPEND)
        self._size = good
        self.syncer.fd = self._fd

    def _new_segment(self) -> None:
        path = self.directory / f"{self.next_seq:020d}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o640)
        old = self._fd
        with self.syncer.lock:
            self._fd, self._size = fd, 0
            self.syncer.fd = fd
        if old >= 0:
            if self.fsync != "never":
                os.fsync(old)
            os.close(old)
        self.segments.append(Segment(self.next_seq, path))
        if self.fsync != "never":
            _fsync_dir(self.directory)

    def append(self, entries: Iterable[tuple[float, str, bytes, bytes]]) -> int:
        """Write (received_at, target, topic, envelope) entries in one write; return next seq."""
        seq = self.next_seq
        chunks = []
        for received_at, target, topic, envelope in entries:
            chunks.append(encode_record(seq, received_at, target, topic, envelope))
            seq += 1
        if not chunks:
            return seq
        data = b"".join(chunks)
        self._write_all(data)
        self.writes += 1
        if self.fsync == "always":
            os.fsync(self._fd)
        else:
            self.syncer.dirty = True
        self._size += len(data)
        self.disk_bytes += len(data)
        self.next_seq = seq
        if self._size >= self.segment_bytes:
            self._new_segment()
        return seq

    def _write_all(self, data: bytes) -> None:
        """Write ``data`` at the end of the segment, whole or not at all.

        A full or failing disk can write part of it (a short write) before refusing the rest:
        what was written is cut off again, so the segment never holds a partial record and the
        same batch can be appended again later. Raises `StoreError`.
        """
        view, done = memoryview(data), 0
        try:
            while done < len(data):
                done += os.write(self._fd, view[done:])
        except OSError as exc:
            if done:
                try:
                    os.ftruncate(self._fd, self._size)
                except OSError as undo:
                    log.critical("store: cannot cut a partial write of %d byte(s) off %s: %s",
                                 done, self.segments[-1].path, undo)  # fmt: skip
                    raise StoreError(f"the log is torn at offset {self._size}: {undo}") from exc
            raise StoreError(
                f"cannot write {len(data)} bytes to {self.segments[-1].path}: {exc}"
            ) from exc

    def release(self, before_seq: int) -> int:
        """Delete whole segments holding only seqs below ``before_seq``; return bytes freed."""
        freed = 0
        while len(self.segments) > 1 and self.segments[1].first <= before_seq:
            segment = self.segments.pop(0)
            size = segment.path.stat().st_size
            segment.path.unlink()
            freed += size
        self.disk_bytes -= freed
        return freed

    @property
    def oldest_seq(self) -> int:
        """The first seq still on disk."""
        return self.segments[0].first if self.segments else self.next_seq

    def reader(self) -> LogReader:
        """A reader for a worker thread (positions itself on its first ``read``)."""
        return LogReader(self)

    def flush(self) -> None:
        """fsync now unless the policy is never (shutdown)."""
        if self._fd >= 0 and self.fsync != "never":
            os.fsync(self._fd)

    def close(self) -> None:
        """Stop the fsync thread, flush and close the active segment."""
        self.syncer.stop()
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1


class LogReader:
    """Sequential reads for one consumer, on its worker thread."""

    def __init__(self, store: SegmentLog) -> None:
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


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
