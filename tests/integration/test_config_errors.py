"""Start-up failures: each kind names what is wrong and exits with its documented code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
import zmq

from tests.integration.harness import CLI_ENV, REPO

pytestmark = pytest.mark.integration

GOOD_CONSUMER = {"class": "recorder", "config": {"path": "/dev/null"}}


def run_hub(tmp_path: Path, config: object, command: str = "run") -> subprocess.CompletedProcess:
    path = tmp_path / "hub.yaml"
    if isinstance(config, dict):  # never the system's /var/lib/consumer-hub
        config = {"state_dir": str(tmp_path / "state"), **config}
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "-m", "hub", "--config", str(path), command],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        env=CLI_ENV,
    )


def base(**extra: object) -> dict:
    config = {"endpoints": ["tcp://127.0.0.1:1"], "status": {"port": 0}, "consumers": {}}
    config.update(extra)
    return config


CASES = [
    ("unknown key", base(endpoint="x"), 3, "hub.yaml: endpoint: unknown key; valid keys are:"),
    ("wrong type", base(consumers={"c": dict(GOOD_CONSUMER, threads="two")}), 3,
     "consumers.c.threads: expected int, got string 'two'"),
    ("bad number", base(consumers={"c": dict(GOOD_CONSUMER, queue_size=0)}), 3,
     "consumers.c.queue_size: expected a whole number greater than 0, got 0"),
    ("bad endpoint", base(endpoints=["localhost:9940"]), 3,
     "endpoints: expected a ZeroMQ endpoint"),
    ("missing endpoints", {"consumers": {}}, 3, "endpoints: required key is missing"),
    ("unknown consumer key", base(consumers={"c": dict(GOOD_CONSUMER, thread=2)}), 3,
     "consumers.c.thread: unknown key; valid keys are: batch_size, batch_wait_s, class, config"),
    ("not yaml", "endpoints: [\n", 3, "not valid YAML"),
    ("missing module", base(consumers={"c": {"class": "no_such_mod:C"}}), 4,
     "consumer 'c': cannot import module 'no_such_mod'"),
    ("missing class", base(consumers={"c": {"class": "consumers.log:Nope"}}), 4,
     "consumer 'c': module 'consumers.log' has no attribute 'Nope'"),
    ("unknown entry point", base(consumers={"c": {"class": "nope"}}), 4,
     "neither module:Class nor an entry point"),
    ("no consume", base(consumers={"c": {"class": "hub.consumer:Consumer"}}), 4,
     "has no consume() or consume_batch() method"),
    ("empty topics", base(consumers={"c": dict(GOOD_CONSUMER, topics=[])}), 3,
     "consumers.c.topics: expected a non-empty list"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "config", "code", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_configuration_is_reported_with_its_exit_code(
    tmp_path: Path, case: str, config: object, code: int, message: str
) -> None:
    """``run`` refuses a bad config with one clear line and the documented exit code."""
    result = run_hub(tmp_path, config)
    assert result.returncode == code, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("case", "config", "code", "message"), CASES[:4], ids=[c[0] for c in CASES[:4]]
)
def test_check_reports_the_same_errors(
    tmp_path: Path, case: str, config: object, code: int, message: str
) -> None:
    """``check`` exits non-zero with the same message as ``run``."""
    result = run_hub(tmp_path, config, "check")
    assert result.returncode == code
    assert message in result.stderr


def test_check_prints_consumers_and_topics(tmp_path: Path) -> None:
    """``check`` on a good config lists each consumer (kind, how found) with its topics; exit 0."""
    config = base(consumers={"c": dict(GOOD_CONSUMER, topics=["org.fedoraproject.prod.*"])})
    result = run_hub(tmp_path, config, "check")
    assert result.returncode == 0, result.stderr
    assert "consumer c: hub consumer, found as entry point hub.consumers:recorder" in result.stdout
    assert "source=zmq threads=1" in result.stdout
    assert "topic org.fedoraproject.prod.*" in result.stdout
    assert "upstream subscriptions: 'org.fedoraproject.prod.'" in result.stdout


def test_setup_failure_stops_start_up_with_the_plugin_exit_code(tmp_path: Path) -> None:
    """A consumer whose setup() raises (recorder without its path) stops start-up: exit 4."""
    result = run_hub(tmp_path, base(consumers={"c": {"class": "recorder"}}))
    assert result.returncode == 4
    assert "consumer 'c': setup() raised KeyError('path')" in result.stderr


def test_endpoint_bind_failure_exits_with_the_endpoint_code(tmp_path: Path) -> None:
    """Binding an address already in use exits 5 and names the address."""
    context = zmq.Context()
    holder = context.socket(zmq.PUB)
    port = holder.bind_to_random_port("tcp://127.0.0.1")
    try:
        result = run_hub(tmp_path, base(endpoints=[f"bind:tcp://127.0.0.1:{port}"]))
    finally:
        holder.close(0)
        context.term()
    assert result.returncode == 5
    assert f"cannot bind tcp://127.0.0.1:{port}" in result.stderr


def test_dropin_errors_name_the_dropin_file(tmp_path: Path) -> None:
    """An error in hub.d/20-x.yaml names that file, not the main one."""
    (tmp_path / "hub.d").mkdir()
    (tmp_path / "hub.d" / "20-x.yaml").write_text("consumers: {c: {class: log, threads: -1}}\n")
    result = run_hub(tmp_path, base(), "check")
    assert result.returncode == 3
    assert "hub.d/20-x.yaml: consumers.c.threads: expected" in result.stderr


def test_a_state_dir_others_can_write_stops_start_up_naming_it(tmp_path: Path) -> None:
    """A world-writable state_dir (dead letters hold message bodies) is refused: exit 3."""
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    result = run_hub(tmp_path, base(state_dir=str(state)))
    assert result.returncode == 3, result.stderr
    assert f"state_dir {state} is writable by others (mode 0777)" in result.stderr
    assert not (state / "log").exists()  # refused before anything was written there
