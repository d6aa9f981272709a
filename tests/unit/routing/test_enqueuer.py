"""hub.routing.enqueuer and hub.routing.router: decode once, log the batch, then offer it to each
matching spool; pause on a full disk."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from twisted.internet.task import Clock

from hub.observe.stats import Stats
from hub.routing.badinput import BadInputLog
from hub.routing.enqueuer import Enqueuer
from hub.routing.router import Route, Router
from hub.routing.topics import TopicMatcher
from hub.storage.spool import Spool
from hub.storage.store import SegmentLog
from hub.transports.zeromq.codec import decode
from hub.workers.workqueue import WorkQueue


def frames(topic: str, n: int) -> list[bytes]:
    return [topic.encode(), orjson.dumps({"topic": topic, "msg": n, "msg_id": f"m{n}"})]


class Harness:
    def __init__(
        self, bounds: dict[str, tuple[int, list[str]]], tmp: Path, disk: int = 1 << 30
    ) -> None:
        self.store = SegmentLog(
            tmp / "log", segment_bytes=1 << 20, fsync="never", fsync_interval_ms=100
        )
        self.store.open()
        self.clock = Clock()
        self.stats = Stats()
        self.events: list[str] = []
        self.router = Router()
        self.enqueuer = Enqueuer(
            router=self.router,
            decode=decode,
            log=self.store,
            stats=self.stats,
            bad_input=BadInputLog(self.clock.seconds),
            input=self,
            max_message_bytes=1000,
            max_disk_bytes=disk,
            clock=self.clock.seconds,
        )
        self.queues = {n: WorkQueue(n, b) for n, (b, _) in bounds.items()}
        self.spools = {
            n: Spool(n, self.queues[n], reader=self.store.reader(), accepts=TopicMatcher(t).matches)
            for n, (_, t) in bounds.items()
        }
        self.router.set_routes(
            {n: Route(n, TopicMatcher(t), self.spools[n]) for n, (_, t) in bounds.items()}
        )

    def pause(self) -> None:
        self.events.append("pause")

    def resume(self) -> None:
        self.events.append("resume")


def full_disk(fd: int, data: bytes) -> int:
    """Stands in for ``os.write`` on a full disk."""
    raise OSError(28, "No space left on device")


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path


def test_each_message_goes_to_every_matching_queue_and_is_shared(tmp: Path) -> None:
    """One decoded Message object lands in each matching queue; unmatched ones are counted."""
    h = Harness({"a": (100, ["x.*"]), "b": (100, ["x.one", "y.*"])}, tmp)
    h.enqueuer.on_batch([frames("x.one", 1), frames("x.two", 2), frames("z.z", 3)])
    a, b = h.queues["a"].get_many(10), h.queues["b"].get_many(10)
    assert [i.message.body for i in a] == [1, 2]
    assert [i.message.body for i in b] == [1]
    assert a[0].message is b[0].message
    assert h.stats.hub["received"] == 3 and h.stats.hub["unmatched"] == 1
    assert h.stats.consumer("a").counters["enqueued"] == 2


def test_interleaved_topics_reach_each_consumer_in_log_order(tmp: Path) -> None:
    """A batch that mixes topics going to different sets of consumers keeps each one's order."""
    h = Harness({"a": (100, ["x.*"]), "b": (100, ["*"]), "c": (100, ["y.*"])}, tmp)
    topics = ["x.1", "y.1", "x.2", "z", "y.2", "x.3"]
    h.enqueuer.on_batch([frames(t, n) for n, t in enumerate(topics)])
    taken = {name: q.get_many(10) for name, q in h.queues.items()}
    got = {name: [i.message.body for i in items] for name, items in taken.items()}
    assert got == {"a": [0, 2, 5], "b": [0, 1, 2, 3, 4, 5], "c": [1, 4]}
    assert [i.seq for i in taken["c"]] == [1, 4]  # log positions, as written


def test_bad_frames_are_counted_and_skipped_without_losing_neighbours(tmp: Path) -> None:
    """A malformed message in a batch is counted by cause; the valid ones around it route."""
    h = Harness({"a": (100, ["*"])}, tmp)
    h.enqueuer.on_batch([frames("x", 1), [b"x", b"{"], frames("x", 2)])
    assert [i.message.body for i in h.queues["a"].get_many(10)] == [1, 2]
    assert h.stats.decode_errors == {"json": 1}


def test_a_full_window_spills_to_disk_and_reads_back_in_order_without_pausing(
    tmp: Path,
) -> None:
    """A full queue leaves the rest on disk (no pause); take() brings it back, in order, once."""
    h = Harness({"a": (4, ["*"]), "b": (100, ["*"])}, tmp)
    h.enqueuer.on_batch([frames("x", n) for n in range(5)])
    h.enqueuer.on_batch([frames("x", n) for n in range(5, 12)])
    assert h.events == [] and h.spools["a"].spilled and len(h.queues["a"]) == 5
    got = []
    while len(got) < 12:
        got += [i.message.body for i in h.spools["a"].take(3)]
    assert got == list(range(12)) and not h.spools["a"].spilled
    assert [i.seq for i in h.queues["b"].get_many(100)] == list(range(12))
    assert h.store.writes == 2, "one write per input batch"


def test_disk_backlog_counts_only_the_consumers_own_messages(tmp: Path) -> None:
    """A spilled consumer of one topic in a shared log reports exactly its own waiting ones."""
    h = Harness({"a": (2, ["x.*"]), "b": (1000, ["*"])}, tmp)
    h.enqueuer.on_batch([frames("x.a", 0), frames("x.a", 1)])  # a's window is now full
    h.enqueuer.on_batch([frames("x.a" if n % 3 == 0 else "y.b", n) for n in range(2, 32)])
    spool = h.spools["a"]
    assert spool.spilled and spool.on_disk(h.store.next_seq) == 10  # 3, 6, ... 30
    got = [i.message.body for i in spool.take(2)]
    while spool.spilled or len(h.queues["a"]):
        got += [i.message.body for i in spool.take(5)]
        assert spool.on_disk(h.store.next_seq) <= 10
    assert got == [0, 1, *range(3, 32, 3)] and spool.on_disk(h.store.next_seq) == 0


def test_commit_point_is_the_first_unfinished_message(tmp: Path) -> None:
    """Handed out but unfinished messages hold the commit; finishing moves it past them."""
    h = Harness({"a": (100, ["*"])}, tmp)
    h.enqueuer.on_batch([frames("x", n) for n in range(4)])
    spool = h.spools["a"]
    assert spool.commit_point(h.store.next_seq) == 0
    batch = spool.take(2)
    spool.queue.finish([batch[1].seq])
    assert spool.commit_point(h.store.next_seq) == 0
    spool.queue.finish([batch[0].seq])
    assert spool.commit_point(h.store.next_seq) == 2


def test_exhausted_disk_budget_pauses_input_until_space_is_freed(tmp: Path) -> None:
    """Only a full disk budget pauses input (counted); it resumes below 90% of it."""
    h = Harness({"a": (100, ["*"])}, tmp, disk=500)
    h.enqueuer.on_batch([frames("x", n) for n in range(10)])
    assert h.events == ["pause"] and h.stats.hub["disk_full_pauses"] == 1
    h.clock.advance(2.5)
    h.enqueuer.check_room()
    assert h.events == ["pause"]
    h.store.disk_bytes = 100
    h.enqueuer.check_room()
    assert h.events == ["pause", "resume"] and h.stats.hub["input_paused_s"] == 2.5


def test_topic_decisions_are_cached_and_reset_on_new_routes(tmp: Path) -> None:
    """The topic -> routes decision is computed once per topic until routes change."""
    h = Harness({"a": (100, ["x.*"])}, tmp)
    first = h.router.match("x.y")
    assert h.router.match("x.y") is first
    h.router.set_routes({})
    assert h.router.match("x.y") == ()


def test_every_window_gets_its_batch_only_after_the_log_write(tmp: Path) -> None:
    """Crash safety: no consumer can start on a message before its record is written (a kill -9
    in between would leave it done by one consumer and lost for the others); the full one spills
    after the write, so its workers never read back a record not yet written."""
    h = Harness({"live": (100, ["*"]), "full": (1, ["*"])}, tmp)
    h.enqueuer.on_batch([frames("x", 0)])  # "full" is now at its bound
    at_write: list[tuple[int, bool, int]] = []
    append = h.store.append

    def spy(entries: list) -> int:
        at_write.append((len(h.queues["live"]), h.spools["full"].spilled, h.store.next_seq))
        return append(entries)

    h.store.append = spy  # type: ignore[method-assign]
    h.enqueuer.on_batch([frames("x", 1), frames("x", 2)])
    assert at_write == [(1, False, 1)]
    assert len(h.queues["live"]) == 3
    full = h.spools["full"]
    assert full.spilled and (full.disk_from, full.offered_end) == (1, 3)


def test_a_batch_the_disk_refuses_pauses_input_and_is_written_once_it_can_be(
    tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC: counted, input paused, every consumer waits for the batch, replays wait; on the
    retry that succeeds the live one gets it, the spilled one reads it back, input resumes."""
    h = Harness({"live": (100, ["*"]), "full": (1, ["*"])}, tmp)
    h.enqueuer.on_batch([frames("x", 0)])  # "full" is now at its bound
    real_write = os.write
    monkeypatch.setattr("hub.storage.store.os.write", full_disk)
    h.enqueuer.on_batch([frames("x", 1), frames("x", 2)])
    assert h.events == ["pause"] and h.stats.hub["log_write_errors"] == 1
    assert len(h.queues["live"]) == 1 and not h.spools["full"].spilled  # nobody has it yet
    assert not h.enqueuer.inject("live", frames("x", 9), 0.0)
    h.enqueuer.check_room()
    assert h.events == ["pause"] and h.stats.hub["log_write_errors"] == 2
    monkeypatch.setattr("hub.storage.store.os.write", real_write)
    h.enqueuer.check_room()
    assert h.events == ["pause", "resume"] and h.enqueuer.unwritten is None
    assert len(h.queues["live"]) == 3
    got = []
    while len(got) < 3:
        got += [i.message.body for i in h.spools["full"].take(5)]
    assert got == [0, 1, 2] and h.store.next_seq == 3


def test_a_batch_still_unwritten_at_shutdown_is_counted_as_dropped(
    tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopping while the disk still refuses: the consumers' messages of that batch are dropped,
    counted under cause log_write, never silently."""
    h = Harness({"full": (1, ["*"])}, tmp)
    h.enqueuer.on_batch([frames("x", 0)])
    monkeypatch.setattr("hub.storage.store.os.write", full_disk)
    h.enqueuer.on_batch([frames("x", 1), frames("x", 2)])
    h.enqueuer.close()
    assert h.stats.consumer("full").dropped == {"log_write": 2}
