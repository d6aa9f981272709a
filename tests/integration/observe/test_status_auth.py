"""The status endpoint of a running hub behind status.token_file and on status.socket: 401
without the token (/live and /ready open), ``consumer-hub status`` reading through both, and a
token file others can read refused at start (exit code 3)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import REPO, HubProcess, TestPublisher, hub_config

pytestmark = pytest.mark.integration


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path (a unix socket's path is at most 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="hub-") as name:
        yield Path(name)


def token_file(directory: Path, mode: int = 0o600) -> str:
    """A token file holding 's3cret' with ``mode``."""
    path = directory / "token"
    path.write_text("s3cret\n")
    path.chmod(mode)
    return str(path)


def secured_hub(tmp_path: Path, short_dir: Path, endpoint: str, **status: object) -> HubProcess:
    """A hub whose status endpoint has the token and listens on ``short_dir``/status.sock."""
    config = hub_config(endpoint, {})
    config["status"] = {"token_file": token_file(short_dir), "socket": str(short_dir / "s.sock"),
                        "socket_mode": "0600", **status}  # fmt: skip
    return HubProcess(tmp_path, config)


def test_the_socket_wants_the_token_but_for_live_and_ready(
    tmp_path: Path, short_dir: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """On the 0600 socket: /status, /metrics and / 401 without the token, 200 with it;
    /live and /ready 200 without."""
    hub = secured_hub(tmp_path, short_dir, publisher.endpoint)
    hubs.append(hub.start())
    assert hub.status_url == f"unix:{short_dir / 's.sock'}"
    assert stat.S_IMODE(os.stat(short_dir / "s.sock").st_mode) == 0o600
    for path in ("/status", "/metrics", "/"):
        assert hub.get(path)[0] == 401, path
        assert hub.get(path, token="wrong")[0] == 401, path
        assert hub.get(path, token="s3cret")[0] == 200, path
    assert hub.get("/live") == (200, b"ok\n")
    assert hub.get("/ready")[0] == 200


def test_consumer_hub_status_reads_through_socket_and_token(
    tmp_path: Path, short_dir: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """`consumer-hub status --json` with the hub's config finds the socket and the token."""
    hub = secured_hub(tmp_path, short_dir, publisher.endpoint)
    hubs.append(hub.start())
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "hub", "--config", str(hub.config_path), "status", "--json"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "consumers" in json.loads(result.stdout)
    url = f"unix:{short_dir / 's.sock'}"
    cmd[-1:] = ["--url", url, "--token-file", "/dev/null"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0 and "401" in result.stderr


def test_a_token_file_others_can_read_is_refused(
    tmp_path: Path, short_dir: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """A 0644 token file: the hub exits 3, naming the file."""
    hub = secured_hub(tmp_path, short_dir, publisher.endpoint)
    hub.config["status"]["token_file"] = token_file(short_dir, 0o644)
    hubs.append(hub.start(wait_ready=False))
    assert hub.wait(60) == 3
    assert f"status.token_file {short_dir / 'token'} is readable by others" in hub.log_text()
