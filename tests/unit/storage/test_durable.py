"""hub.storage.durable: what a removed consumer leaves on disk is reported, never lost silently."""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.config import config_from_dict
from hub.message import Message
from hub.routing.topics import TopicMatcher
from hub.storage.cursors import CursorFile
from hub.storage.durable import Durable
from hub.workers.workqueue import Item, WorkQueue


class Reactor:
    """Stands in for ``reactor.callFromThread``: the test thread runs what the committer thread
    reports, as the reactor would."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()

    def call_from_thread(self, f: Callable[..., Any], *args: Any) -> None:
        self.calls.put((f, args))

    def run_next(self) -> None:
        f, args = self.calls.get(timeout=10)
        f(*args)


def test_forgetting_a_removed_consumer_reports_its_disk_backlog(tmp_path: Path) -> None:
    """A removed consumer's spilled messages are counted; a replaced one's are handed over."""
    config = config_from_dict({"endpoints": ["tcp://a:1"], "state_dir": str(tmp_path)})
    durable = Durable(config, Reactor().call_from_thread)
    durable.open()
    spool = durable.spool_for("c", WorkQueue("c", bound=2), TopicMatcher(["*"]), input_open=False)

    def log(numbers: range) -> list[Item]:
        entries = [(0.0, "", b"t", orjson.dumps({"msg": n})) for n in numbers]
        first = durable.store.next_seq
        durable.store.append(entries)
        return [Item(Message("t", {"msg": n}), 0.0, first + i) for i, n in enumerate(numbers)]

    spool.offer(log(range(2)), durable.store.next_seq)  # fills the window of 2
    for n in range(2, 5):  # each later batch spills
        spool.offer(log(range(n, n + 1)), durable.store.next_seq)
    assert spool.spilled and spool.on_disk(durable.store.next_seq) == 3
    assert durable.forget("c", replaced=True) == 0
    assert durable.forget("c") == 3
    durable.close()


def test_a_cursor_commit_the_disk_refuses_is_counted_keeps_segments_and_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC on cursors.json (on the committer thread): counted on the reactor, no exception,
    no segment released; the next commit saves the cursors and releases them."""
    config = config_from_dict({"endpoints": ["tcp://a:1"], "state_dir": str(tmp_path),
                               "backlog": {"segment_mb": 1}})  # fmt: skip
    reactor = Reactor()
    durable = Durable(config, reactor.call_from_thread)
    durable.open()
    durable.spool_for("c", WorkQueue("c", bound=10), TopicMatcher(["*"]), input_open=False)
    for _ in range(3):  # three segments, all finished with (nothing offered to "c")
        durable.store.append([(0.0, "", b"t", b"x" * (600 << 10))] * 2)
    real_commit = CursorFile.commit

    def full_disk(self: CursorFile, cursors: dict[str, int]) -> bool:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CursorFile, "commit", full_disk)
    segments = len(durable.store.segments)
    durable.commit()
    reactor.run_next()
    assert durable.hub_snapshot()["cursor_commit_errors"] == 1
    assert len(durable.store.segments) == segments and durable.saved == {}
    monkeypatch.setattr(CursorFile, "commit", real_commit)
    durable.commit()
    reactor.run_next()
    assert durable.saved == {"c": durable.store.next_seq}
    assert len(durable.store.segments) < segments
    durable.close()


def test_a_consumer_removed_and_added_again_starts_at_the_log_end(tmp_path: Path) -> None:
    """A removed consumer's backlog was dropped (and counted) at its removal: added again in
    the same run, even before the next commit, it starts at the log's end, not at its saved
    cursor (which may be older than what it finished while draining: no repeats)."""
    config = config_from_dict({"endpoints": ["tcp://a:1"], "state_dir": str(tmp_path)})
    reactor = Reactor()
    durable = Durable(config, reactor.call_from_thread)
    durable.open()
    b = durable.spool_for("b", WorkQueue("b", bound=10), TopicMatcher(["*"]), input_open=False)
    durable.store.append([(0.0, "", b"t", b"x")] * 3)
    b.offer([Item(Message("t", {"msg": 0}), 0.0, 0)], durable.store.next_seq)  # b holds seq 0
    durable.commit()
    reactor.run_next()
    assert durable.saved["b"] == 0
    durable.forget("b")
    back = durable.spool_for("b", WorkQueue("b", bound=10), TopicMatcher(["*"]), input_open=False)
    assert back.commit_point(durable.store.next_seq) == durable.store.next_seq == 3
    assert not back.spilled
    durable.close()
    assert CursorFile(tmp_path / "cursors.json", False).load() == {"b": 3}


def test_a_commit_finishing_after_a_consumer_was_added_keeps_what_it_needs(
    tmp_path: Path,
) -> None:
    """A commit worked out before consumer "b" was added completes after it: the segments "b"
    needs are kept. (With an unreadable cursors file a consumer starting before input opens
    starts at the oldest record kept, so it needs every segment.)"""
    (tmp_path / "cursors.json").write_text("{not json")
    config = config_from_dict({"endpoints": ["tcp://a:1"], "state_dir": str(tmp_path),
                               "backlog": {"segment_mb": 1}})  # fmt: skip
    reactor = Reactor()
    durable = Durable(config, reactor.call_from_thread)
    durable.open()
    for _ in range(3):  # three segments
        durable.store.append([(0.0, "", b"t", b"x" * (600 << 10))] * 2)
    durable.commit()  # worked out without "b": nobody needs any segment
    b = durable.spool_for("b", WorkQueue("b", bound=10), TopicMatcher(["*"]), input_open=False)
    assert b.commit_point(durable.store.next_seq) == 0  # at the oldest record
    segments = len(durable.store.segments)
    reactor.run_next()
    assert len(durable.store.segments) == segments and durable.store.oldest_seq == 0
    durable.close()


def _durable_with_log(tmp_path: Path, records: int) -> tuple[Durable, Reactor]:
    """A durable state whose log holds ``records`` records (and no cursor file)."""
    config = config_from_dict({"endpoints": ["tcp://a:1"], "state_dir": str(tmp_path)})
    reactor = Reactor()
    first = Durable(config, reactor.call_from_thread)
    first.open()
    first.store.append([(0.0, "", b"t", b"x")] * records)
    first.store.close()  # as after kill -9: records on disk, no cursors.json
    durable = Durable(config, reactor.call_from_thread)
    durable.open()
    return durable, reactor


def test_a_log_without_a_cursor_file_starts_every_consumer_at_its_oldest_record(
    tmp_path: Path,
) -> None:
    """Killed before its first commit, a hub leaves records and no cursors.json: on restart
    each consumer starts at the oldest record kept (at least once), never at the log's end."""
    durable, _ = _durable_with_log(tmp_path, 5)
    assert not (tmp_path / "cursors.json").exists() and durable.store.next_seq == 5
    slow = durable.spool_for("slow", WorkQueue("slow", bound=10), TopicMatcher(["*"]),
                             input_open=False)  # fmt: skip
    assert slow.commit_point(5) == 0 and slow.spilled
    durable.close()


def test_a_consumer_the_cursor_file_does_not_name_starts_at_the_oldest_record(
    tmp_path: Path,
) -> None:
    """At start-up a consumer missing from a readable cursor file reads back what is kept;
    one first seen while input is open (a reload added it) starts at the log's end."""
    durable, _ = _durable_with_log(tmp_path, 4)
    durable.saved = {"other": 4}
    new = durable.spool_for("new", WorkQueue("new", bound=10), TopicMatcher(["*"]),
                            input_open=False)  # fmt: skip
    added = durable.spool_for("added", WorkQueue("added", bound=10), TopicMatcher(["*"]),
                              input_open=True)  # fmt: skip
    assert new.commit_point(4) == 0 and added.commit_point(4) == 4
    durable.close()


class FakeCommitter:
    """Keeps what it is handed; the test reports back by hand, in any order."""

    def __init__(self) -> None:
        self.submitted: list[tuple[dict[str, int], int]] = []

    def submit(self, cursors: dict[str, int], generation: int = 0) -> None:
        self.submitted.append((cursors, generation))

    def stop(self) -> None:
        pass


def test_persist_fires_once_a_commit_taken_after_it_is_on_disk(tmp_path: Path) -> None:
    """A start point is durable when persist() fires: not on an older commit's report, not on
    a refused one; the next successful commit fires it, with the consumer in its cursors."""
    durable, _ = _durable_with_log(tmp_path, 0)
    assert durable.committer is not None
    durable.committer.stop()
    committer = durable.committer = FakeCommitter()  # type: ignore[assignment]
    fired: list[None] = []
    durable.commit()  # worked out before "c" existed
    durable.spool_for("c", WorkQueue("c", bound=10), TopicMatcher(["*"]), input_open=False)
    durable.persist().addCallback(fired.append)
    (old, g1), (new, g2) = committer.submitted
    assert "c" not in old and new == {"c": 0} and g2 > g1
    durable._committed(old, None, g1)
    assert fired == []
    durable._committed(new, OSError(28, "No space left on device"), g2)
    assert fired == [] and durable.commit_errors == 1
    durable.commit()  # the next interval
    retried, g3 = committer.submitted[-1]
    durable._committed(retried, None, g3)
    assert fired == [None] and durable.saved == {"c": 0}
    durable.close()
