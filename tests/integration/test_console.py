"""``consumer-hub status`` and ``top`` as commands, against a running hub subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.harness import (
    CLI_ENV,
    REPO,
    HubProcess,
    TestPublisher,
    hub_config,
    recorder,
    wait_records,
)

pytestmark = pytest.mark.integration


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=CLI_ENV,
    )


def test_status_prints_each_consumer_of_a_running_hub(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """`status` finds the hub from the config's status port and prints its consumers' rows."""
    consumers = {"alpha": recorder(tmp_path / "a.jsonl"), "beta": recorder(tmp_path / "b.jsonl")}
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, consumers))
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    for n in range(3):
        publisher.send({"topic": "org.test.x", "msg": {"n": n}})
    wait_records(tmp_path / "a.jsonl", 3)
    wait_records(tmp_path / "b.jsonl", 3)
    assert hub.status_url
    port = int(hub.status_url.rsplit(":", 1)[1])
    config = dict(hub.config, status={"host": "127.0.0.1", "port": port})
    (tmp_path / "client.yaml").write_text(yaml.safe_dump(config))
    result = _cli("status", "--config", str(tmp_path / "client.yaml"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("hub ") and "received 3" in lines[0]
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    assert set(rows) == {"alpha", "beta"}
    assert rows["alpha"][1] == "idle" and rows["alpha"][2] == "0"  # state, backlog


def test_top_draws_frames_and_status_json_is_the_document(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """`top --count 2 --url` draws two frames; `status --json` prints /status."""
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"r": recorder(tmp_path / "r")}))
    hubs.append(hub.start())
    assert hub.status_url
    top = _cli("top", "--url", hub.status_url, "--count", "2", "--interval", "0.1")
    assert top.returncode == 0, top.stderr
    assert top.stdout.count("consumer-hub top") == 2 and "BACKLOG, LAST 5 MIN" in top.stdout
    raw = _cli("status", "--json", "--url", hub.status_url)
    assert '"consumers"' in raw.stdout and '"r"' in raw.stdout


def test_status_of_a_stopped_hub_exits_5(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """When nothing answers on the status port, `status` says so and exits with 5."""
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"r": recorder(tmp_path / "r")}))
    hubs.append(hub.start())
    url = hub.status_url
    assert url and hub.stop() == 0
    result = _cli("status", "--url", url)
    assert result.returncode == 5
    assert "cannot read hub status" in result.stderr
