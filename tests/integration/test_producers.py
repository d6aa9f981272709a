"""Producers in a real hub subprocess: the hub's SUB reads its own PUB, so what a producer
publishes reaches a recorder consumer. A producer that raises every third poll keeps its
schedule; /status and /metrics show its figures; a moksha PollingProducer found by its
``moksha.producer`` entry point runs on the hub's named thread, never in Twisted's pool; at
shutdown the producers stop before input closes.

Readiness: the first messages may go before the SUB's subscription reached the PUB; the tests
wait for messages to arrive (the handshake) and count from the records and from /status, never
after a fixed sleep.
"""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import (
    REPO,
    HubProcess,
    hub_config,
    recorder,
    wait_records,
    wait_until,
)
from tests.integration.servers.rabbitmq import free_port

pytestmark = pytest.mark.integration


def _looped_hub(tmp_path: Path, producers: dict[str, Any], topics: list[str]) -> HubProcess:
    """A hub whose SUB reads its own PUB, recording ``topics`` to ``tmp_path/out.jsonl``."""
    own = f"tcp://127.0.0.1:{free_port()}"
    config = hub_config(own, {"rec": recorder(tmp_path / "out.jsonl", topics)},
                        publish_endpoint=f"bind:{own}", producers=producers)  # fmt: skip
    return HubProcess(tmp_path, config)


def test_a_producer_failing_every_third_poll_keeps_its_schedule(
    tmp_path: Path, hubs: list[HubProcess]
) -> None:
    """failures == polls // 3 (within one), polls ~0.2 s apart, messages reach a consumer, and
    /status and /metrics show the figures."""
    hub = _looped_hub(tmp_path, {"ticker": {"class": "tests.plugins:EveryThird",
                                            "interval_s": 0.2}}, ["org.test.produced"])  # fmt: skip
    hubs.append(hub)
    hub.start()
    records = wait_records(tmp_path / "out.jsonl", 15)
    doc = wait_until(lambda: (d := hub.status()["producers"]["ticker"])["polls"] >= 15 and d)
    assert abs(doc["failures"] - doc["polls"] // 3) <= 1, doc
    assert doc["state"] in ("idle", "polling") and doc["interval_s"] == 0.2
    assert doc["last_duration_s"] < 0.2 and doc["last_run_at"] and doc["next_at"]
    bodies = sorted((r["body"] for r in records), key=lambda b: b["n"])
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(bodies)
            if b["n"] == a["n"] + 1]  # fmt: skip
    assert 0.18 < statistics.median(gaps) < 0.22, gaps
    assert {b["thread"] for b in bodies} == {"producer:ticker"}
    assert "producer ticker: poll() failed" in hub.log_text()
    assert "RuntimeError: poll 3 fails" in hub.log_text()  # the traceback
    code, metrics = hub.get("/metrics")
    text = metrics.decode()
    assert code == 200 and 'consumer_hub_producer_polls_total{producer="ticker"}' in text
    assert 'consumer_hub_producer_failures_total{producer="ticker"}' in text
    assert 'consumer_hub_producer_state{producer="ticker",state="idle"}' in text
    assert hub.stop() == 0
    log = hub.log_text()
    assert log.index("producers stopped: ticker") < log.index("stopping: input closed")
    assert log.index("producers started: ticker") < log.index("hub ready")


def _entry_point(root: Path) -> Path:
    """A dist-info naming the moksha peer in the moksha.producer group, as a package would."""
    info = root / "hubtest_poller-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hubtest-poller\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[moksha.producer]\ntick-poller = tests.peers.moksha_poller:TickPoller\n"
    )
    return root


def test_a_moksha_polling_producer_runs_by_entry_point_on_the_hubs_thread(
    tmp_path: Path, hubs: list[HubProcess]
) -> None:
    """Found as moksha.producer:tick-poller, its poll() runs on producer:tick every ~0.2 s
    (frequency is a timedelta), its _work loop was held back, and no poll ran in Twisted's pool."""
    hub = _looped_hub(tmp_path, {"tick": {"class": "tick-poller"}}, ["org.test.poller.*"])
    hubs.append(hub)
    hub.start(path=[_entry_point(tmp_path / "site")])
    records = wait_records(tmp_path / "out.jsonl", 10)
    assert {r["body"]["thread"] for r in records} == {"producer:tick"}
    doc = hub.status()["producers"]["tick"]
    assert doc["kind"] == "moksha" and doc["moksha_loops_held"] == 1
    assert doc["interval_s"] == 0.2 and doc["failures"] == 0
    bodies = sorted((r["body"] for r in records), key=lambda b: b["n"])
    ns = [b["n"] for b in bodies]
    assert ns == list(range(ns[0], ns[0] + len(ns)))  # one loop only: no second _work counting
    assert hub.stop() == 0


def test_check_lists_each_producer_with_its_kind_and_schedule(tmp_path: Path) -> None:
    """`consumer-hub check` loads every producer and prints kind, how found and interval."""
    site = _entry_point(tmp_path / "site")
    config = hub_config("tcp://127.0.0.1:1", {}, producers={"tick": {"class": "tick-poller"}})
    path = tmp_path / "hub.yaml"
    path.write_text(json.dumps(config))
    done = subprocess.run([sys.executable, "-m", "hub", "--config", str(path), "check"],
                          env={"PYTHONPATH": f"{site}:{REPO}", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert ("producer tick: moksha producer, found as entry point moksha.producer:tick-poller"
            in done.stdout and "every 0.2 s" in done.stdout), done.stdout  # fmt: skip
