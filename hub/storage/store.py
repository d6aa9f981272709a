"""The durable backlog on disk: one shared, append-only, segmented log of received messages.

Threads: ``SegmentLog.open``/``append``/``release``/``close`` run on the reactor thread (one
``os.write`` per input batch); a `hub.storage.logreader.LogReader` runs on a consumer's worker
thread and only reads records below the sequence number the reactor published; the ``interval``
fsync policy runs on its own ``store:fsync`` thread (see `hub.storage.fsync`). A failed fsync or
segment rotation is counted and logged, never raised: the records are already written.

Layout: ``<dir>/<first seq, 20 digits>.seg``, each a sequence of records (`hub.storage.records`). A
torn or corrupt tail (a crash mid-write) is truncated away on open; everything before it is
kept. A write the disk refuses part-way is cut off again at once (``_write_all``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from hub.errors import StoreError
from hub.storage.fsync import Syncer
from hub.storage.logreader import LogReader
from hub.storage.records import encode_record, scan

log = logging.getLogger(__name__)

SUFFIX = ".seg"


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
        self, directory: Path, *, segment_bytes: int, fsync: str, fsync_interval_ms: int
    ) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.fsync = fsync  # "always" | "interval" | "never"
        self.syncer = Syncer(fsync_interval_ms / 1000.0)
        self.segments: list[Segment] = []
        self.next_seq = 0
        self.disk_bytes = 0
        self.writes = 0
        self.rotate_errors = 0  # times a new segment could not be started
        self._sync_errors = 0  # fsyncs that failed on this thread (the Syncer counts its own)
        self._failing: set[str] = set()  # "fsync", "rotate": failing now (logged once)
        self._fd = -1
        self._size = 0

    def open(self, min_next_seq: int = 0) -> None:
        """Recover the log (truncating a torn tail) and open the last segment for appending."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o600)
        old = self._fd  # from here on nothing raises: the new segment is in use
        with self.syncer.lock:
            self._fd, self._size = fd, 0
            self.syncer.fd = fd
        self.segments.append(Segment(self.next_seq, path))
        if old >= 0:
            if self.fsync != "never":
                self._sync(lambda: os.fsync(old), self.segments[-2].path)
            os.close(old)
        if self.fsync != "never":
            self._sync(lambda: _fsync_dir(self.directory), self.directory)

    @property
    def sync_errors(self) -> int:
        """fsyncs that failed, on any thread."""
        return self._sync_errors + self.syncer.errors

    def _sync(self, fsync: Callable[[], None], what: Path) -> None:
        """Run ``fsync``; a failure is counted and logged, not raised: the records are written
        (readers see them) but may not survive a power failure, and writing them again would
        only duplicate them. Logged once until an fsync succeeds again."""
        try:
            fsync()
        except OSError as exc:
            self._sync_errors += 1
            self._episode("fsync", True, "store: fsync of %s failed: %s; the records are "
                          "written but may not survive a power failure", what, exc)  # fmt: skip
        else:
            self._episode("fsync", False, "store: fsync works again")

    def _rotate(self) -> None:
        """Start the next segment. If its file cannot be created (no inode, no descriptor),
        keep appending to this one and try again after the next write: counted, logged once."""
        try:
            self._new_segment()
        except OSError as exc:
            self.rotate_errors += 1
            self._episode("rotate", True, "store: cannot start a new segment in %s: %s; "
                          "appending to %s meanwhile", self.directory, exc,
                          self.segments[-1].path)  # fmt: skip
        else:
            self._episode("rotate", False, "store: segments rotate again")

    def _episode(self, kind: str, failing: bool, msg: str, *args: object) -> None:
        """Log the start (error) and the end (info) of a run of failures of ``kind``."""
        if failing and kind not in self._failing:
            self._failing.add(kind)
            log.error(msg, *args)
        elif not failing and kind in self._failing:
            self._failing.discard(kind)
            log.info(msg, *args)

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
        self._size += len(data)
        self.disk_bytes += len(data)
        self.next_seq = seq
        if self.fsync == "always":
            fd = self._fd
            self._sync(lambda: os.fsync(fd), self.segments[-1].path)
        else:
            self.syncer.dirty = True
        if self._size >= self.segment_bytes:
            self._rotate()
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
            fd = self._fd
            self._sync(lambda: os.fsync(fd), self.segments[-1].path)

    def close(self) -> None:
        """Stop the fsync thread, flush and close the active segment."""
        self.syncer.stop()
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
