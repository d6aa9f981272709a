"""Consumer outcomes, supervision and upstream gaps on a real hub subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.harness import (
    REPO,
    HubProcess,
    TestPublisher,
    hub_config,
    read_records,
    recorder,
    wait_records,
    wait_until,
)

pytestmark = pytest.mark.integration

FAST_RETRY = {"max_attempts": 3, "initial_delay_s": 0.05, "max_delay_s": 0.2}


def cli(hub: HubProcess, *args: str) -> str:
    cmd = [sys.executable, "-m", "hub", "--config", str(hub.config_path), "deadletters", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=REPO, check=True)
    return done.stdout


def test_a_poison_message_is_retried_dead_lettered_and_replayed_by_the_cli(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """Poison: 3 attempts, then a dead letter (list/show); the rest flows; replay delivers it."""
    out = tmp_path / "rec.jsonl"
    rec = {"rec": recorder(out, fail_topics=["org.test.poison"])}
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, rec, retry=FAST_RETRY))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    poison = publisher.send({"topic": "org.test.poison", "msg": "x"})["msg_id"]
    good = [publisher.send({"topic": "org.test.ok", "msg": n})["msg_id"] for n in range(5)]
    assert [r["msg_id"] for r in wait_records(out, 5)] == good
    status = wait_until(lambda: (s := hub.status()["consumers"]["rec"])["dead_letters"] and s)
    assert status["failed"] == 1 and status["retries"] == 2
    hub.wait_for_log(f"attempt 2/3 on org.test.poison \\(msg_id {poison}\\)")
    listing = cli(hub, "list")
    assert poison in listing and "RuntimeError" in listing
    assert "Traceback" in cli(hub, "show", listing.split("\t")[0])
    assert hub.stop() == 0
    assert "1 dead letter(s) marked" in cli(hub, "replay", "--consumer", "rec")
    hub.config["consumers"] = {"rec": recorder(out)}
    again = HubProcess(tmp_path, hub.config, "again")
    hubs.append(again.start())
    assert wait_records(out, 6)[-1]["msg_id"] == poison
    assert wait_until(lambda: cli(again, "list") == "", what="the replayed row to go")
    assert again.stop() == 0


def test_halt_stops_one_consumer_keeps_its_backlog_and_input_flowing(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """After Halt, new messages pile up on disk for it (no input pause); a restart delivers them."""
    out, other = tmp_path / "t.jsonl", tmp_path / "other.jsonl"
    consumers = {
        "t": {"class": "tests.plugins:Troublemaker", "queue_size": 10,
              "config": {"path": str(out), "halt_on": "org.test.halt"}},
        "other": recorder(other),
    }  # fmt: skip
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, consumers))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    sent = [publisher.send({"topic": "org.test.a", "msg": 0})["msg_id"]]
    sent.append(publisher.send({"topic": "org.test.halt", "msg": 1})["msg_id"])
    sent += [publisher.send({"topic": "org.test.a", "msg": n})["msg_id"] for n in range(200)]
    wait_until(lambda: hub.status()["consumers"]["t"]["state"] == "halted", what="halted")
    # the 50 must come in a later input batch than the 200: a window takes a whole batch
    wait_until(lambda: hub.status()["hub"]["received"] == 202, what="the first 202 received")
    sent += [publisher.send({"topic": "org.test.a", "msg": n})["msg_id"] for n in range(50)]
    wait_records(other, 252)
    status = hub.status()
    assert status["consumers"]["t"]["backlog"] == 251 and status["hub"]["input_pauses"] == 0
    t = status["consumers"]["t"]
    assert t["backlog_disk"] >= 50, f"past the full window, on disk: {t}\n{hub.log_text()}"
    assert hub.stop() == 0
    consumers["t"]["config"].pop("halt_on")
    hubs.append(again := HubProcess(tmp_path, hub.config, "again").start())
    assert [r["msg_id"] for r in wait_records(out, 252)] == sent
    assert again.stop() == 0


def test_a_dying_worker_is_restarted_with_backoff_and_a_crash_loop_is_reported(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """A thread killed 3 times is restarted each time, reported as a crash loop, then moves on."""
    out = tmp_path / "t.jsonl"
    consumers = {"t": {"class": "tests.plugins:Troublemaker",
                       "config": {"path": str(out), "die_on": "org.test.die"}}}  # fmt: skip
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, consumers, retry=FAST_RETRY))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    dying = publisher.send({"topic": "org.test.die", "msg": 0})["msg_id"]
    after = publisher.send({"topic": "org.test.ok", "msg": 1})["msg_id"]
    hub.wait_for_log("consumer t: crash loop: 3 worker deaths")
    hub.wait_for_log(f"worker thread 0 died in consume\\(\\) of org.test.die \\(msg_id {dying}\\)")
    code, body = hub.get("/ready")
    assert code == 503 and b"crash loop" in body
    assert [r["msg_id"] for r in wait_records(out, 1)] == [after]
    status = hub.status()["consumers"]["t"]
    assert status["worker_restarts"] >= 2 and status["crash_loop"] is True
    assert status["dead_letters"] == 1
    assert hub.stop() == 0


def test_a_stuck_consume_is_reported_with_its_msg_id_in_status_ready_and_log(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """consume() running past stuck_after_s shows in status, /ready and one log line."""
    rec = {"rec": dict(recorder(tmp_path / "r.jsonl", delay_s=30), stuck_after_s=0.3)}
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, rec, shutdown_timeout_s=0.5))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    msg_id = publisher.send({"topic": "org.test.stuck", "msg": 0})["msg_id"]
    hub.wait_for_log(f"consume\\(\\) of org.test.stuck \\(msg_id {msg_id}\\) has run for")
    code, body = hub.get("/ready")
    assert code == 503 and msg_id.encode() in body
    assert hub.status()["consumers"]["rec"]["stuck_workers"] == 1
    hub.kill()


def test_upstream_gaps_are_counted_logged_once_and_reset_on_publisher_restart(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """i 1,2,3,7,8 then 1,2 (a restart): 3 lost, one restart, one gap log line."""
    out = tmp_path / "r.jsonl"
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"rec": recorder(out)}))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    base = {"topic": "org.test.app.x", "msg": 0, "username": "u", "hostname": "h"}
    for i in (1, 2, 3, 7, 8, 1, 2):
        publisher.send(dict(base, i=i))
    wait_records(out, 7)
    hub_status = wait_until(lambda: (s := hub.status()["hub"])["upstream_restarts"] and s)
    assert hub_status["upstream_gaps"] == 3
    hub.wait_for_log("upstream gap: 3 message")  # stderr is read on a thread: it may lag /status
    assert sum("upstream gap: 3 message(s) from u@h" in line for line in hub.lines) == 1
    assert len(read_records(out)) == 7
    assert hub.stop() == 0
