"""hub.durable: what a removed consumer leaves on disk is reported, never lost silently."""

from __future__ import annotations

from pathlib import Path

import orjson

from hub.config import config_from_dict
from hub.durable import Durable
from hub.message import Message
from hub.topics import TopicMatcher
from hub.workqueue import Item, WorkQueue


def test_forgetting_a_removed_consumer_reports_its_disk_backlog(tmp_path: Path) -> None:
    """A removed consumer's spilled messages are counted; a replaced one's are handed over."""
    config = config_from_dict({"endpoints": ["tcp://a:1"], "state_dir": str(tmp_path)})
    durable = Durable(config)
    durable.open()
    queue = WorkQueue("c", bound=2)
    spool = durable.spool_for("c", queue, TopicMatcher(["*"]))

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
