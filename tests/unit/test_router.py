"""hub.router: decode once, route by topic into each matching queue, pause when full."""

from __future__ import annotations

import orjson
from twisted.internet.task import Clock

from hub.badinput import BadInputLog
from hub.router import Route, Router
from hub.stats import Stats
from hub.topics import TopicMatcher
from hub.workqueue import WorkQueue


def frames(topic: str, n: int) -> list[bytes]:
    return [topic.encode(), orjson.dumps({"topic": topic, "msg": n, "msg_id": f"m{n}"})]


class Harness:
    def __init__(self, bounds: dict[str, tuple[int, list[str]]]) -> None:
        self.clock = Clock()
        self.stats = Stats()
        self.events: list[str] = []
        self.router = Router(
            self.stats,
            BadInputLog(self.clock.seconds),
            1000,
            self.clock.seconds,
            lambda: self.events.append("pause"),
            lambda: self.events.append("resume"),
        )
        self.queues = {n: WorkQueue(n, b) for n, (b, _) in bounds.items()}
        self.router.set_routes(
            {n: Route(n, TopicMatcher(t), self.queues[n]) for n, (_, t) in bounds.items()}
        )


def test_each_message_goes_to_every_matching_queue_and_is_shared() -> None:
    """One decoded Message object lands in each matching queue; unmatched ones are counted."""
    h = Harness({"a": (100, ["x.*"]), "b": (100, ["x.one", "y.*"])})
    h.router.on_batch([frames("x.one", 1), frames("x.two", 2), frames("z.z", 3)])
    a, b = h.queues["a"].get_many(10), h.queues["b"].get_many(10)
    assert [i.message.body for i in a] == [1, 2]
    assert [i.message.body for i in b] == [1]
    assert a[0].message is b[0].message
    assert h.stats.hub["received"] == 3 and h.stats.hub["unmatched"] == 1
    assert h.stats.consumer("a").counters["enqueued"] == 2


def test_bad_frames_are_counted_and_skipped_without_losing_neighbours() -> None:
    """A malformed message in a batch is counted by cause; the valid ones around it route."""
    h = Harness({"a": (100, ["*"])})
    h.router.on_batch([frames("x", 1), [b"x", b"{"], frames("x", 2)])
    assert [i.message.body for i in h.queues["a"].get_many(10)] == [1, 2]
    assert h.stats.decode_errors == {"json": 1}


def test_full_queue_pauses_input_and_room_resumes_it_counting_the_pause() -> None:
    """Input pauses when a queue reaches its bound, resumes below low water, time counted."""
    h = Harness({"a": (4, ["*"]), "b": (100, ["*"])})
    h.router.on_batch([frames("x", n) for n in range(5)])
    assert h.events == ["pause"]
    h.clock.advance(2.5)
    h.queues["a"].get_many(1)
    h.router.on_room()
    assert h.events == ["pause"], "4 left is above the low-water mark of 3"
    h.queues["a"].get_many(1)
    h.router.on_room()
    assert h.events == ["pause", "resume"]
    assert h.stats.hub["input_paused_s"] == 2.5 and h.stats.hub["input_pauses"] == 1


def test_topic_decisions_are_cached_and_reset_on_new_routes() -> None:
    """The topic -> routes decision is computed once per topic until routes change."""
    h = Harness({"a": (100, ["x.*"])})
    first = h.router.match("x.y")
    assert h.router.match("x.y") is first
    h.router.set_routes({})
    assert h.router.match("x.y") == ()
