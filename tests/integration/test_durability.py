"""The durable backlog on a real hub subprocess: SIGTERM/restart, kill -9/restart, 1M backlog."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    hub_config,
    read_records,
    recorder,
    wait_records,
    wait_until,
)

pytestmark = pytest.mark.integration


def small(n: int) -> dict:
    return {"topic": "org.test.durable", "msg": {"n": n}}


def received(hub: HubProcess, count: int) -> None:
    wait_until(lambda: hub.status()["hub"]["received"] >= count, 30, f"{count} received")


def test_sigterm_keeps_the_backlog_and_the_next_start_resumes_exactly_once_in_order(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """After SIGTERM mid-backlog, a restart delivers the rest: all 600, in order, none twice."""
    out = tmp_path / "rec.jsonl"
    slow = {"rec": dict(recorder(out, delay_s=0.01), queue_size=50)}
    config = hub_config(publisher.endpoint, slow, shutdown_timeout_s=0.5, zmq={"batch_size": 50})
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    publisher.wait_subscribed()
    sent = [publisher.send(small(n))["msg_id"] for n in range(600)]
    received(hub, 600)
    wait_records(out, 20)
    assert hub.status()["consumers"]["rec"]["backlog_disk"] > 0, "the backlog spilled to disk"
    assert hub.stop() == 0
    first_run = len(read_records(out))
    assert first_run < 600, "the shutdown left a backlog behind"
    again = HubProcess(tmp_path, hub_config(publisher.endpoint, {"rec": recorder(out)}), "again")
    hubs.append(again.start())
    got = [r["msg_id"] for r in wait_records(out, 600)]
    assert again.stop() == 0
    assert [r["msg_id"] for r in read_records(out)] == sent == got


def test_kill_9_then_restart_delivers_every_received_message_at_least_once(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """kill -9 mid-backlog loses nothing received; duplicates stay within one commit interval."""
    out = tmp_path / "rec.jsonl"
    backlog = {"commit_interval_s": 0.2, "fsync": "never"}
    rec = {"rec": dict(recorder(out, delay_s=0.002), queue_size=100)}
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, rec, backlog=backlog))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    sent = [publisher.send(small(n))["msg_id"] for n in range(3000)]
    received(hub, 3000)
    wait_records(out, 300)
    hub.kill()
    before = len(read_records(out))
    again = HubProcess(
        tmp_path, hub_config(publisher.endpoint, {"rec": recorder(out)}, backlog=backlog), "b"
    )
    hubs.append(again.start())
    wait_until(lambda: {r["msg_id"] for r in read_records(out)} >= set(sent), 60, "every msg")
    assert again.stop() == 0
    got = [r["msg_id"] for r in read_records(out)]
    duplicates = len(got) - len(set(got))
    assert list(dict.fromkeys(got)) == sent, "first deliveries are in publish order"
    # at 2 ms a message, 0.2 s of commit interval is ~100 messages, plus one batch in hand (64)
    assert duplicates <= 300, f"{duplicates} duplicates (first run recorded {before})"


@pytest.mark.slow
def test_a_stalled_consumer_with_a_million_message_backlog_stays_under_the_memory_budget(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """1,000,000 messages behind a consumer stuck for ever: RSS < 200 MB, no pause, others fed."""
    total = 1_000_000
    consumers = {
        "stalled": recorder(tmp_path / "stalled.jsonl", delay_s=3600),
        "fast": {"class": "tests.plugins:Nothing"},
    }
    config = hub_config(publisher.endpoint, consumers, upstream_gaps=False)
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    publisher.wait_subscribed()
    frames = [b"t", b'{"topic":"t","msg":1}']
    for _ in range(total):
        publisher.send_raw(frames)
    peak = 0

    def caught_up() -> bool:
        nonlocal peak
        status = hub.status()
        peak = max(peak, status["hub"]["rss_bytes"])
        return status["consumers"]["fast"]["done"] >= total

    wait_until(caught_up, 240, "the fast consumer to finish a million")
    status = hub.status()
    stalled = status["consumers"]["stalled"]
    print(f"1M backlog: peak RSS {peak / 2**20:.1f} MB, log {status['hub']['log_bytes']} bytes")
    assert stalled["backlog_disk"] >= total - 20_000 and stalled["state"] == "running"
    assert status["hub"]["input_pauses"] == 0 and status["hub"]["disk_full_pauses"] == 0
    assert peak < 200 * 2**20, f"peak RSS {peak / 2**20:.1f} MB"
    hub.kill()
    assert os.path.getsize(tmp_path / "state" / "cursors.json") > 0


def test_an_unreadable_cursor_file_and_no_log_still_take_and_deliver_messages(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """A garbled cursors.json beside an empty state directory is logged, and the new log
    starts at seq 0: every message is written and delivered (it once started at -1, and the
    first write failed on the reactor, which then stopped reading)."""
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "cursors.json").write_text("{not json")
    out = tmp_path / "rec.jsonl"
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"rec": recorder(out)}))
    hubs.append(hub.start())
    hub.wait_for_log("cursors: cannot read")
    publisher.wait_subscribed()
    sent = [publisher.send(small(n))["msg_id"] for n in range(10)]
    wait_records(out, 10)
    sent += [publisher.send(small(n))["msg_id"] for n in range(10, 20)]  # a later read
    assert [r["msg_id"] for r in wait_records(out, 20)] == sent
    assert hub.status()["hub"]["log_next_seq"] == 20
    assert hub.stop() == 0


DEFECT = """
import hub.routing.enqueuer

_on_batch = hub.routing.enqueuer.Enqueuer.on_batch


def on_batch(self, batch):
    if any(frames[0] == b"org.test.defect" for frames in batch):
        raise RuntimeError("an injected defect")
    return _on_batch(self, batch)


hub.routing.enqueuer.Enqueuer.on_batch = on_batch
"""


def test_a_defect_in_the_data_path_stops_the_hub_with_exit_1_not_a_deaf_hub(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """An exception out of the enqueuer (injected through sitecustomize) stops the hub with exit
    code 1 after a critical log line, so systemd restarts it; what it had delivered is committed:
    the restarted hub repeats none of it and takes new messages."""
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(DEFECT)
    out = tmp_path / "rec.jsonl"
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"rec": recorder(out)}))
    hubs.append(hub.start(path=[inject]))
    publisher.wait_subscribed()
    sent = [publisher.send(small(n))["msg_id"] for n in range(5)]
    wait_records(out, 5)
    publisher.send({"topic": "org.test.defect", "msg": {}})
    assert hub.wait(30) == 1
    assert "handling a batch of 1 message(s) failed" in hub.log_text()
    assert "an injected defect" in hub.log_text()
    again = HubProcess(tmp_path, hub_config(publisher.endpoint, {"rec": recorder(out)}), "again")
    hubs.append(again.start())
    publisher.wait_subscribed()
    sent.append(publisher.send(small(5))["msg_id"])
    assert [r["msg_id"] for r in wait_records(out, 6)] == sent
    assert again.stop() == 0
    assert len(read_records(out)) == 6
