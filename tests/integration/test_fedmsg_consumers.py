"""fedmsg and moksha consumers, unchanged, in a real hub: a FedmsgConsumer found through its
``moksha.consumer`` entry point, configured from a real ``fedmsg.d/``, gets the real messages its
topics match and answers on the bus, which fedmsg's own ``tail_messages()`` reads.

Runs in the pytest process; the hub and fedmsg's tail are subprocesses. Readiness: the hub's
subscription handshake, then messages sent until the tail reads an answer (no fixed sleep).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import (
    CLI_ENV,
    REPO,
    HubProcess,
    TestPublisher,
    hub_config,
    sample_envelopes,
    wait_until,
)
from tests.integration.servers.rabbitmq import free_port

pytestmark = pytest.mark.integration
BADGES = ("org.fedoraproject.prod.bodhi.", "org.fedoraproject.prod.fas.")


def site(tmp_path: Path, own: str, out: Path, counted: Path) -> tuple[Path, Path]:
    """A fedmsg.d/ of two files, and a site dir registering the consumer's entry point."""
    conf = tmp_path / "fedmsg.d"
    conf.mkdir()
    (conf / "base.py").write_text(f"config = dict(endpoints={{'hub': [{own!r}]}}, "
                                  "validate_signatures=False, environment='prod')\n")  # fmt: skip
    (conf / "badges.py").write_text(f"config = {{'hubtest.badges.enabled': True, "
                                    f"'hubtest.badges.path': {str(out)!r}, "
                                    f"'hubtest.counter.path': {str(counted)!r}}}\n")  # fmt: skip
    dist = tmp_path / "site" / "hubtest_peers-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hubtest-peers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[moksha.consumer]\nhubtest-badges = tests.peers.fedmsg_badges:BadgeAwarder\n"
    )
    return conf, tmp_path / "site"


class Tail:
    """fedmsg's tail_messages() in a subprocess; the messages it printed, as they come."""

    def __init__(self, cwd: Path, topic: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.peers.fedmsg_tail", topic], cwd=cwd,
            env=CLI_ENV,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.seen.append(json.loads(line))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def test_a_fedmsg_consumer_runs_unchanged_and_fedmsgs_tail_reads_its_answers(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """BadgeAwarder (by its moksha.consumer name) records exactly the real samples its topics
    match, with their msg_id and i, on the hub's threads; its send_message() answers reach
    fedmsg's tail; a plain moksha consumer gets its own topic's."""
    own = f"tcp://127.0.0.1:{free_port()}"
    out, counted = tmp_path / "badges.jsonl", tmp_path / "counted.jsonl"
    conf, extra = site(tmp_path, own, out, counted)
    consumers = {"badges": {"class": "hubtest-badges"},
                 "counter": {"class": "tests.peers.fedmsg_badges:Counter"}}  # fmt: skip
    config = hub_config(publisher.endpoint, consumers, publish_endpoint=f"bind:{own}",
                        fedmsg={"config_dir": str(conf)})  # fmt: skip
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start(path=[extra]))
    publisher.wait_subscribed(BADGES)
    tail = Tail(tmp_path, "org.test.badges.awarded")
    try:
        bodhi = next(e for e in sample_envelopes() if e["topic"].startswith(BADGES[0]))
        for n in range(150):  # until the tail's subscription took hold
            publisher.send({**bodhi, "msg_id": f"probe-{n}", "i": n})
            if _within(lambda: tail.seen, 0.2):
                break
        assert tail.seen, "fedmsg's tail never read an answer"
        sent = [publisher.send({**e, "msg_id": f"s-{k}"}) for k, e in enumerate(sample_envelopes())]
        wanted = [e["msg_id"] for e in sent if e["topic"].startswith(BADGES)]
        fas = [e["msg_id"] for e in sent if e["topic"].startswith(BADGES[1])]
        wait_until(lambda: len(_ours(out)) >= len(wanted), 30, "every badge message")
        got = _ours(out)
        assert [r["msg_id"] for r in got] == wanted, "exactly its topics, in order"
        assert all(r["thread"].startswith("consumer:badges") for r in got), got[0]
        wait_until(lambda: len(_ours(counted, "topic", BADGES[1])) >= len(fas), 30, "every fas one")
        answered = lambda: {a["msg"]["msg"]["for"] for a in tail.seen}  # noqa: E731
        wait_until(lambda: answered() >= set(wanted), 30, "every answer read by fedmsg")
    finally:
        tail.close()
    status = hub.status()["consumers"]
    assert status["badges"]["kind"] == "fedmsg" and status["counter"]["kind"] == "moksha"
    assert hub.stop() == 0


def _ours(path: Path, key: str = "msg_id", prefix: str = "s-") -> list[dict[str, Any]]:
    """The records of ``path`` whose ``key`` starts with ``prefix`` (not the probes')."""
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if str(r.get(key)).startswith(prefix)]


def _within(predicate: Any, seconds: float) -> bool:
    """True as soon as ``predicate()`` is, False after ``seconds``."""
    try:
        wait_until(predicate, seconds, "")
    except AssertionError:
        return False
    return True


def test_check_names_each_kind_and_refuses_a_consumer_its_config_key_disables(
    tmp_path: Path,
) -> None:
    """`consumer-hub check` prints kind and how each was found; a FedmsgConsumer whose
    config_key is off fails it (exit 4) naming the key, where fedmsg-hub skipped it silently."""
    conf, extra = site(tmp_path, "tcp://127.0.0.1:1", tmp_path / "a", tmp_path / "b")
    consumers = {"badges": {"class": "hubtest-badges"},
                 "cb": {"class": "tests.peers.fm_callbacks:Recorder", "topics": ["*"]}}  # fmt: skip
    config = hub_config("tcp://127.0.0.1:1", consumers, fedmsg={"config_dir": str(conf)})
    ok = _check(tmp_path, config, extra)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ("consumer badges: fedmsg consumer, found as entry point "
            "moksha.consumer:hubtest-badges") in ok.stdout  # fmt: skip
    assert "consumer cb: fedora-messaging consumer, found as tests.peers" in ok.stdout
    consumers["off"] = {"class": "tests.peers.fedmsg_badges:Disabled"}
    off = _check(tmp_path, config, extra)
    assert off.returncode == 4 and "config_key 'hubtest.disabled.enabled'" in off.stderr


def _check(tmp_path: Path, config: dict[str, Any], extra: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "check.yaml"
    path.write_text(json.dumps(config))
    env = {"PYTHONPATH": f"{extra}:{REPO}", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "hub", "--config", str(path), "check"],
                          env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
