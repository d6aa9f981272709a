"""A disk that refuses the durable log's writes, on a real hub subprocess.

The refusals are real: the tests lower the running hub's limits (``prlimit``). A file-size
limit makes the kernel write part of a batch and then fail the rest with EFBIG, as a full disk
does; a file-descriptor limit makes creating the next log segment fail with EMFILE.
"""

from __future__ import annotations

import resource
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

LIMIT = 64 * 1024  # bytes any file of the hub may grow to while the "disk" is full
PADDING = "x" * 4000  # outside "msg": fills the log, not the recorder's file


def padded(n: int) -> dict:
    return {"topic": "org.test.disk", "msg": {"n": n}, "padding": PADDING}


def test_a_refused_log_write_pauses_input_and_loses_nothing_once_the_disk_recovers(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """EFBIG part-way through a batch: input pauses (logged, counted, /ready 503); once writes
    succeed again every message arrives once, in order, and a restart finds no torn record."""
    out = tmp_path / "rec.jsonl"
    config = hub_config(publisher.endpoint, {"rec": recorder(out)}, zmq={"batch_size": 5})
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    assert hub.proc is not None
    unlimited = resource.RLIM_INFINITY
    resource.prlimit(hub.proc.pid, resource.RLIMIT_FSIZE, (LIMIT, unlimited))  # the soft limit
    publisher.wait_subscribed()
    sent = [publisher.send(padded(n))["msg_id"] for n in range(30)]
    hub.wait_for_log("input paused: cannot write")
    status = hub.status()["hub"]
    assert status["input_paused"] and status["log_write_errors"] >= 1
    code, body = hub.get("/ready")
    assert code == 503 and b"durable log cannot be written" in body
    sent += [publisher.send(padded(n))["msg_id"] for n in range(30, 40)]
    resource.prlimit(hub.proc.pid, resource.RLIMIT_FSIZE, (unlimited, unlimited))
    hub.wait_for_log("the log is writable again")
    got = [r["msg_id"] for r in wait_records(out, 40)]
    assert got == sent
    wait_until(lambda: hub.get("/ready")[0] == 200, what="ready again")
    assert hub.stop() == 0
    again = HubProcess(tmp_path, hub_config(publisher.endpoint, {"rec": recorder(out)}), "again")
    hubs.append(again.start())
    assert again.status()["consumers"]["rec"]["backlog"] == 0
    assert again.stop() == 0
    assert "torn tail" not in again.log_text()
    assert [r["msg_id"] for r in read_records(out)] == sent


def test_a_segment_that_cannot_be_created_is_retried_and_loses_nothing(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """EMFILE when the log rotates: the current segment grows, the failure is logged once and
    counted; once descriptors are free again the next write starts a new segment, and every
    message arrives once, in order."""
    out = tmp_path / "rec.jsonl"
    state = tmp_path / "state"
    config = hub_config(publisher.endpoint, {"rec": recorder(out)}, state_dir=str(state),
                        backlog={"segment_mb": 1}, zmq={"batch_size": 20})  # fmt: skip
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    assert hub.proc is not None
    publisher.wait_subscribed()
    # below every descriptor but stdin, stdout and stderr: no descriptor the hub closes
    # meanwhile (a status connection, a cursor file) can make room for a new segment
    soft, hard = resource.prlimit(hub.proc.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(hub.proc.pid, resource.RLIMIT_NOFILE, (3, hard))
    sent = [publisher.send(padded(n))["msg_id"] for n in range(300)]  # ~1.2 MB: past 1 MB
    hub.wait_for_log("cannot start a new segment")
    resource.prlimit(hub.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
    sent += [publisher.send(padded(n))["msg_id"] for n in range(300, 320)]
    hub.wait_for_log("segments rotate again")
    assert [r["msg_id"] for r in wait_records(out, 320)] == sent
    assert hub.status()["hub"]["log_rotate_errors"] >= 1
    assert len(list((state / "log").glob("*.seg"))) >= 2
    assert hub.log_text().count("cannot start a new segment") == 1
    assert hub.stop() == 0
