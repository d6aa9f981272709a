"""hub.durable: what a removed consumer leaves on disk is reported, never lost silently."""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.config import config_from_dict
from hub.cursors import CursorFile
from hub.durable import Durable
from hub.message import Message
from hub.topics import TopicMatcher
from hub.workqueue import Item, WorkQueue


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
    spool = durable.spool_for("c", WorkQueue("c", bound=2), TopicMatcher(["*"]))

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
    durable.spool_for("c", WorkQueue("c", bound=10), TopicMatcher(["*"]))
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
    b = durable.spool_for("b", WorkQueue("b", bound=10), TopicMatcher(["*"]))
    durable.store.append([(0.0, "", b"t", b"x")] * 3)
    b.offer([Item(Message("t", {"msg": 0}), 0.0, 0)], durable.store.next_seq)  # b holds seq 0
    durable.commit()
    reactor.run_next()
    assert durable.saved["b"] == 0
    durable.forget("b")
    back = durable.spool_for("b", WorkQueue("b", bound=10), TopicMatcher(["*"]))
    assert back.commit_point(durable.store.next_seq) == durable.store.next_seq == 3
    assert not back.spilled
    durable.close()
    assert CursorFile(tmp_path / "cursors.json", False).load() == {"b": 3}


def test_a_commit_finishing_after_a_consumer_was_added_keeps_what_it_needs(
    tmp_path: Path,
) -> None:
    """A commit worked out before a reload added consumer "b" completes after it: the segments
    "b" needs are kept. (With an unreadable cursors file a new consumer starts at the oldest
    record kept, so it needs every segment.)"""
    (tmp_path / "cursors.json").write_text("{not json")
    config = config_from_dict({"endpoints": ["tcp://a:1"], "state_dir": str(tmp_path),
                               "backlog": {"segment_mb": 1}})  # fmt: skip
    reactor = Reactor()
    durable = Durable(config, reactor.call_from_thread)
    durable.open()
    for _ in range(3):  # three segments
        durable.store.append([(0.0, "", b"t", b"x" * (600 << 10))] * 2)
    durable.commit()  # worked out without "b": nobody needs any segment
    b = durable.spool_for("b", WorkQueue("b", bound=10), TopicMatcher(["*"]))
    assert b.commit_point(durable.store.next_seq) == 0  # at the oldest record
    segments = len(durable.store.segments)
    reactor.run_next()
    assert len(durable.store.segments) == segments and durable.store.oldest_seq == 0
    durable.close()
