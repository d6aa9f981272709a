"""Unit tests of the segmented log, its cursor file and its fsync policies (tmp dirs, no hub)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from hub.storage.cursors import CursorFile
from hub.storage.records import HEADER
from hub.storage.store import SegmentLog, StoreError, list_segments


def entries(count: int, start: int = 0, target: str = "") -> list[tuple[float, str, bytes, bytes]]:
    return [(1.5, target, b"t.%d" % i, b'{"msg": %d}' % i) for i in range(start, start + count)]


def opened(tmp_path: Path, segment_bytes: int = 1 << 20, fsync: str = "never") -> SegmentLog:
    store = SegmentLog(
        tmp_path / "log", segment_bytes=segment_bytes, fsync=fsync, fsync_interval_ms=10
    )
    store.open()
    return store


def test_append_then_read_back_in_order(tmp_path: Path) -> None:
    """Records come back in order with seq, target, topic, envelope and received_at intact."""
    store = opened(tmp_path)
    assert store.append(entries(3)) == 3
    assert store.append(entries(2, 3, target="c1")) == 5
    records = store.reader().read(0, store.next_seq, 100)
    assert [r.seq for r in records] == [0, 1, 2, 3, 4]
    assert records[4].target == "c1" and records[4].topic == b"t.4"
    assert records[1].envelope == b'{"msg": 1}' and records[1].received_at == 1.5
    assert store.writes == 2


def test_reads_cross_segments_and_respect_limits(tmp_path: Path) -> None:
    """A reader walks across segment files, stops at ``end`` and ``limit``, resumes anywhere."""
    store = opened(tmp_path, segment_bytes=200)
    for n in range(0, 40, 4):
        store.append(entries(4, n))
    assert len(list_segments(tmp_path / "log")) > 3
    reader = store.reader()
    assert [r.seq for r in reader.read(5, 40, 3)] == [5, 6, 7]
    assert [r.seq for r in reader.read(8, 12, 100)] == [8, 9, 10, 11]
    assert [r.seq for r in store.reader().read(33, 40, 100)] == list(range(33, 40))


def test_release_deletes_only_whole_finished_segments(tmp_path: Path) -> None:
    """Segments below the slowest cursor go; the active segment and anything needed stay."""
    store = opened(tmp_path, segment_bytes=200)
    for n in range(0, 40, 4):
        store.append(entries(4, n))
    before = store.disk_bytes
    firsts = [s.first for s in store.segments]
    freed = store.release(firsts[2])
    assert freed > 0 and store.disk_bytes == before - freed
    assert store.oldest_seq == firsts[2]
    assert store.reader().read(firsts[2], 40, 100)[0].seq == firsts[2]
    store.release(10**9)
    assert len(store.segments) == 1


def test_reopen_continues_the_sequence(tmp_path: Path) -> None:
    """After close and reopen the next seq follows the last record written."""
    store = opened(tmp_path)
    store.append(entries(7))
    store.close()
    again = opened(tmp_path)
    assert again.next_seq == 7
    assert again.append(entries(1)) == 8
    assert [r.seq for r in again.reader().read(0, 8, 100)] == list(range(8))


def test_torn_last_record_is_truncated_on_open(tmp_path: Path) -> None:
    """A half-written tail (crash mid-write) is cut off; every whole record before it survives."""
    store = opened(tmp_path)
    store.append(entries(5))
    store.close()
    path = list_segments(tmp_path / "log")[-1].path
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size - 3)
    again = opened(tmp_path)
    assert again.next_seq == 4
    assert [r.seq for r in again.reader().read(0, 4, 100)] == [0, 1, 2, 3]
    assert again.append(entries(1)) == 5


def test_corrupt_last_record_is_truncated_on_open(tmp_path: Path) -> None:
    """A last record whose CRC does not match (garbage after a crash) is dropped on open."""
    store = opened(tmp_path)
    store.append(entries(3))
    store.close()
    path = list_segments(tmp_path / "log")[-1].path
    with path.open("ab") as f:
        f.write(HEADER.pack(10, 12345, 3) + b"0123456789")
    assert opened(tmp_path).next_seq == 3


def test_empty_log_starts_at_min_next_seq(tmp_path: Path) -> None:
    """A fresh log never hands out seqs below what cursors already point at."""
    store = SegmentLog(tmp_path / "log", segment_bytes=1 << 20, fsync="never", fsync_interval_ms=10)
    store.open(min_next_seq=42)
    assert store.append(entries(1)) == 43


@pytest.mark.parametrize("policy", ["always", "interval", "never"])
def test_fsync_policies_write_and_sync(tmp_path: Path, policy: str) -> None:
    """Each fsync policy accepts writes; interval syncs only when something was written."""
    store = opened(tmp_path, fsync=policy)
    store.append(entries(2))
    if policy == "interval":
        assert store.syncer.sync_once() is True
        assert store.syncer.sync_once() is False
    store.close()
    assert opened(tmp_path).next_seq == 2


def test_cursor_file_commits_atomically_and_only_on_change(tmp_path: Path) -> None:
    """Cursors survive a reload; an unchanged commit writes nothing; no temp file is left."""
    cursors = CursorFile(tmp_path / "cursors.json", fsync=True)
    assert cursors.load() == {}
    assert cursors.commit({"a": 3, "b": 9}) is True
    assert cursors.commit({"a": 3, "b": 9}) is False
    assert CursorFile(tmp_path / "cursors.json", fsync=False).load() == {"a": 3, "b": 9}
    assert sorted(os.listdir(tmp_path)) == ["cursors.json"]


def test_a_write_refused_part_way_leaves_no_partial_record_and_can_be_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short write then ENOSPC: StoreError, the segment cut back, the batch appendable again."""
    store = opened(tmp_path)
    store.append(entries(2))
    size = store.segments[-1].path.stat().st_size
    real_write, calls = os.write, []

    def full_disk(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[:10]))  # a short write ...
        raise OSError(28, "No space left on device")  # ... then the disk refuses the rest

    monkeypatch.setattr("hub.storage.store.os.write", full_disk)
    with pytest.raises(StoreError, match="No space left"):
        store.append(entries(3, 2))
    assert store.segments[-1].path.stat().st_size == size and store.next_seq == 2
    monkeypatch.setattr("hub.storage.store.os.write", real_write)
    assert store.append(entries(3, 2)) == 5
    records = store.reader().read(0, store.next_seq, 100)
    assert [r.seq for r in records] == [0, 1, 2, 3, 4] and records[4].topic == b"t.4"


def test_a_failed_fsync_is_counted_and_logged_once_and_the_records_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """fsync EIO (policy always): append still succeeds, each failure counts, one error line."""
    caplog.set_level(logging.INFO, logger="hub.storage.store")
    store = opened(tmp_path, fsync="always")
    real_fsync = os.fsync

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("hub.storage.store.os.fsync", failing)
    assert store.append(entries(2)) == 2
    assert store.append(entries(2, 2)) == 4
    assert store.sync_errors == 2
    assert [r.message for r in caplog.records].count(
        f"store: fsync of {store.segments[-1].path} failed: [Errno 5] Input/output error; the "
        "records are written but may not survive a power failure"
    ) == 1
    monkeypatch.setattr("hub.storage.store.os.fsync", real_fsync)
    store.append(entries(1, 4))
    assert "store: fsync works again" in caplog.text and store.sync_errors == 2
    assert [r.seq for r in store.reader().read(0, store.next_seq, 10)] == [0, 1, 2, 3, 4]


def test_a_segment_that_cannot_be_started_is_retried_after_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.open fails at rotation (EMFILE): the batch is kept, the old segment grows, and the
    next write starts the new segment; nothing is lost or repeated."""
    store = opened(tmp_path, segment_bytes=200)
    real_open = os.open

    def no_descriptors(path: object, flags: int, mode: int = 0o777) -> int:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr("hub.storage.store.os.open", no_descriptors)
    for n in range(0, 12, 4):
        store.append(entries(4, n))
    assert (len(store.segments), store.rotate_errors, store.next_seq) == (1, 2, 12)
    monkeypatch.setattr("hub.storage.store.os.open", real_open)
    store.append(entries(4, 12))
    assert len(store.segments) == 2 and store.segments[1].first == 16
    assert [r.seq for r in store.reader().read(0, 16, 100)] == list(range(16))
    store.close()
    assert opened(tmp_path, segment_bytes=200).next_seq == 16


def test_the_interval_syncer_counts_failures_and_tries_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed interval fsync is counted in sync_errors and the segment stays dirty."""
    store = opened(tmp_path, fsync="interval")
    store.syncer.stop()  # driven by hand below
    store.append(entries(2))

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("hub.storage.fsync.os.fsync", failing)
    assert store.syncer.sync_once() is False and store.syncer.sync_once() is False
    assert store.sync_errors == 2 and store.syncer.dirty
    monkeypatch.undo()
    assert store.syncer.sync_once() is True and not store.syncer.dirty
