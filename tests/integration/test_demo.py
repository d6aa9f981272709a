"""`make run`'s embedded default, etc/demo.yaml with `run --demo`: the demo publisher feeds every
sample consumer (the SQLite archive included) over real ZeroMQ, and SIGTERM stops it cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.harness import REPO, HubProcess, wait_until
from tests.integration.servers.rabbitmq import free_port

pytestmark = pytest.mark.integration


def demo_config(tmp_path: Path) -> dict[str, Any]:
    """etc/demo.yaml on free loopback ports, with its state under ``tmp_path``."""
    config: dict[str, Any] = yaml.safe_load((REPO / "etc" / "demo.yaml").read_text())
    config["endpoints"] = [f"tcp://127.0.0.1:{free_port()}"]
    config["publish_endpoint"] = f"bind:tcp://127.0.0.1:{free_port()}"
    config["status"]["port"] = 0
    config["state_dir"] = str(tmp_path / "state")
    return config


def test_the_demo_feeds_every_consumer_and_archives_into_sqlite(
    tmp_path: Path, hubs: list[HubProcess]
) -> None:
    """Within seconds every non-slow demo consumer has done messages, the archive's rows are in
    <state_dir>/archive/archive.sqlite, and SIGTERM exits 0."""
    hub = HubProcess(tmp_path, demo_config(tmp_path), name="demo")
    hubs.append(hub.start(args=["--demo", "--demo-rate", "200"]))

    def busy() -> bool:
        consumers = hub.status()["consumers"]
        return all(consumers[n]["done"] >= 50 for n in ("everything-log", "archive"))

    wait_until(busy, 30, "the demo consumers busy")
    assert hub.stop() == 0
    assert (tmp_path / "state" / "archive" / "archive.sqlite").stat().st_size > 0
