"""The core data path over real sockets: publisher -> hub subprocess -> consumers."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from hub.routing.topics import TopicMatcher
from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    hub_config,
    read_records,
    recorder,
    sample_envelopes,
    wait_records,
    wait_until,
)

pytestmark = pytest.mark.integration

TOPIC_SETS = {
    "everything": ["*"],
    "bodhi": ["org.fedoraproject.*.bodhi.*"],
    "prod": ["org.fedoraproject.prod.*"],
    "pagure-and-ci": ["io.pagure.*", "org.centos.prod.ci.*"],
}


def test_every_sample_reaches_exactly_the_matching_consumers_once_in_order(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """Each consumer gets exactly the samples its topics match, once each, in publish order."""
    consumers = {n: recorder(tmp_path / f"{n}.jsonl", t) for n, t in TOPIC_SETS.items()}
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, consumers))
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    wait_until(lambda: hub.get("/ready") == (200, b"ready\n"), what="/ready says ready")
    assert hub.status()["hub"]["input_connected"] is True
    sent = [publisher.send(env) for env in sample_envelopes()]
    for name, topics in TOPIC_SETS.items():
        matcher = TopicMatcher(topics)
        expected = [e["msg_id"] for e in sent if matcher.matches(e["topic"])]
        assert expected, f"the samples should exercise {name}"
        got = wait_records(tmp_path / f"{name}.jsonl", len(expected))
        assert [r["msg_id"] for r in got] == expected, name
    assert hub.stop() == 0
    for name in TOPIC_SETS:  # nothing arrived late, nothing twice
        matcher = TopicMatcher(TOPIC_SETS[name])
        count = sum(1 for e in sent if matcher.matches(e["topic"]))
        assert len(read_records(tmp_path / f"{name}.jsonl")) == count


def test_upstream_subscriptions_are_the_consumers_prefixes(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """The SUB socket subscribes only to the literal prefixes enabled consumers need."""
    consumers = {
        "a": recorder(tmp_path / "a.jsonl", ["org.fedoraproject.prod.*", "org.fedoraproject.*"]),
        "b": recorder(tmp_path / "b.jsonl", ["io.pagure.prod.pagure.pull-request.*"]),
        "off": dict(recorder(tmp_path / "off.jsonl", ["org.centos.*"]), enabled=False),
    }
    hubs.append(HubProcess(tmp_path, hub_config(publisher.endpoint, consumers)).start())
    publisher.wait_subscribed(["org.fedoraproject.", "io.pagure.prod.pagure.pull-request."])
    assert publisher.subscriptions == {
        b"org.fedoraproject.",
        b"io.pagure.prod.pagure.pull-request.",
    }


def test_a_slow_consumer_does_not_slow_a_fast_one(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """A consumer sleeping 0.2 s a message leaves its neighbour to finish all 401 promptly."""
    consumers = {
        "fast": recorder(tmp_path / "fast.jsonl"),
        "slow": recorder(tmp_path / "slow.jsonl", delay_s=0.2),
    }
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, consumers))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    for env in sample_envelopes():
        publisher.send(env)
    wait_records(tmp_path / "fast.jsonl", 401, timeout=20)
    slow_done = len(read_records(tmp_path / "slow.jsonl"))
    status = hub.status()["consumers"]
    assert slow_done < 200, "the slow consumer cannot have kept up; the test proves nothing"
    assert status["slow"]["backlog"] > 0
    assert status["fast"]["backlog"] == 0
    assert status["fast"]["done"] == 401
    hub.kill()


def test_sigterm_drains_the_queue_calls_teardown_and_exits_zero(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """SIGTERM with a backlog: input stops, every queued message is consumed, teardown runs."""
    path = tmp_path / "drain.jsonl"
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"d": recorder(path, delay_s=0.01)}))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    sent = [publisher.send(env) for env in sample_envelopes()[:200]]
    wait_until(lambda: hub.status()["hub"]["received"] == 200, what="all 200 received")
    assert hub.status()["consumers"]["d"]["backlog"] > 0, "nothing was queued at SIGTERM"
    hub.signal(signal.SIGTERM)
    assert hub.wait(30) == 0
    assert [r["msg_id"] for r in read_records(path)] == [e["msg_id"] for e in sent]
    assert len(read_records(path, "teardown")) == 1
    assert "stopping: input closed; draining" in hub.log_text()


def test_a_second_sigterm_exits_at_once_with_code_6(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """While a slow drain is under way, a second SIGTERM exits at once with the forced code."""
    path = tmp_path / "slow.jsonl"
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"s": recorder(path, delay_s=30)}))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    publisher.send(sample_envelopes()[0])
    wait_until(lambda: hub.status()["consumers"]["s"]["workers"][0]["state"] == "busy")
    hub.signal(signal.SIGTERM)
    hub.wait_for_log("stopping: input closed")
    time.sleep(0.6)  # not a readiness wait: a second signal within 0.5 s counts as the same kill
    hub.signal(signal.SIGTERM)
    assert hub.wait(10) == 6
    assert "second signal: exiting at once" in hub.log_text()
