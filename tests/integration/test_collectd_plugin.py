"""plugins/collectd against a real collectd: the python plugin reads /status, csv stores values."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import (
    REPO,
    HubProcess,
    TestPublisher,
    hub_config,
    recorder,
    wait_records,
    wait_until,
)

pytestmark = pytest.mark.integration

COLLECTD = shutil.which("collectd") or "/usr/sbin/collectd"
HOST = "hubtest"

CONFIG = """\
Hostname "{host}"
FQDNLookup false
BaseDir "{tmp}"
PIDFile "{tmp}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 1
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{tmp}/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "{tmp}/csv"
  StoreRates false
</Plugin>
<LoadPlugin python>
  Globals true
</LoadPlugin>
<Plugin python>
  ModulePath "{module_path}"
  Import "consumer_hub_collectd"
  <Module consumer_hub_collectd>
    URL "{url}"
    Timeout 2{more}
  </Module>
</Plugin>
"""


@pytest.fixture
def collectd_bin() -> str:
    if not os.path.exists(COLLECTD):
        if os.environ.get("CI"):
            pytest.fail("collectd is not installed (.ci/run installs collectd-core)")
        pytest.skip("collectd is not installed: apt-get install collectd-core")
    return COLLECTD


@pytest.fixture
def collectd_dir(tmp_path: Path) -> Path:
    """A directory of collectd's own: config, pid file, log and csv output."""
    root = tmp_path / "collectd"
    root.mkdir()
    return root


def _last_value(root: Path, plugin_dir: str, type_prefix: str) -> float | None:
    """The newest value collectd's csv plugin wrote for ``<plugin_dir>/<type_prefix>-<date>``."""
    files = sorted((root / "csv" / HOST / plugin_dir).glob(f"{type_prefix}-????-??-??"))
    if not files:
        return None
    text = files[-1].read_text()
    complete = text[: text.rfind("\n") + 1]  # collectd may be mid-way through a row
    rows = [r for r in complete.splitlines()[1:] if r.strip()]
    return float(rows[-1].split(",")[1]) if rows else None


def test_collectd_reads_the_hub_and_stores_per_consumer_values(
    tmp_path: Path,
    publisher: TestPublisher,
    hubs: list[HubProcess],
    collectd_bin: str,
    collectd_dir: Path,
) -> None:
    """5 messages (one failing) through the hub show up in collectd's csv with their types."""
    rec = recorder(tmp_path / "rec.jsonl", ["org.test.*"], fail_topics=["*.bad"])
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"rec": rec}))
    hubs.append(hub.start())
    publisher.wait_subscribed(["org.test."])
    for topic in ["org.test.ok"] * 4 + ["org.test.bad"]:
        publisher.send({"topic": topic, "msg": {}})
    wait_records(tmp_path / "rec.jsonl", 4)
    wait_until(lambda: hub.status()["consumers"]["rec"]["failed"] == 1, what="the failure")
    log = collectd_dir / "collectd.log"
    with running_collectd(collectd_bin, collectd_dir, f"{hub.status_url}/status"):
        consumer = "consumer_hub-rec"
        expected = {
            (consumer, "derive-done"): 4,
            (consumer, "derive-failed"): 1,
            (consumer, "derive-enqueued"): 5,
            (consumer, "queue_length-backlog"): 0,
            (consumer, "count-workers-idle"): 1,
            ("consumer_hub", "derive-received"): 5,
        }
        present = [(consumer, "response_time-duration-p99"), (consumer, "latency-queue_wait-p50"),
                   ("consumer_hub", "memory-rss")]  # fmt: skip

        def values() -> dict:
            return {key: _last_value(collectd_dir, *key) for key in [*expected, *present]}

        # collectd's csv plugin writes each value to its own file, not all at once: wait for all
        wait_until(
            lambda: (
                all(values()[k] == v for k, v in expected.items())
                and all(values()[k] is not None for k in present)
            ),
            20,
            f"collectd csv values {expected}; have {values()}; log: {_text(log)}",
        )
        assert (_last_value(collectd_dir, "consumer_hub", "memory-rss") or 0) > 0
    assert "consumer_hub: cannot read" not in _text(log)


def test_collectd_reads_through_the_socket_with_the_token(
    tmp_path: Path,
    publisher: TestPublisher,
    hubs: list[HubProcess],
    collectd_bin: str,
    collectd_dir: Path,
) -> None:
    """Socket and TokenFile: collectd reads a hub on status.socket behind status.token_file."""
    with tempfile.TemporaryDirectory(prefix="hub-") as short:  # a socket path is short
        token = Path(short) / "token"
        token.write_text("s3cret\n")
        token.chmod(0o600)
        sock = str(Path(short) / "s.sock")
        config = hub_config(publisher.endpoint, {})
        config["status"] = {"token_file": str(token), "socket": sock}
        hubs.append(HubProcess(tmp_path, config).start())
        more = f'\n    Socket "{sock}"\n    TokenFile "{token}"'
        log = collectd_dir / "collectd.log"
        with running_collectd(collectd_bin, collectd_dir, "http://localhost/status", more):
            wait_until(
                lambda: _last_value(collectd_dir, "consumer_hub", "uptime") is not None,
                20,
                f"collectd's uptime value; log: {_text(log)}",
            )
    assert "consumer_hub: cannot read" not in _text(log)


@contextlib.contextmanager
def running_collectd(binary: str, directory: Path, url: str, more: str = "") -> Iterator[None]:
    """collectd in the foreground with our plugin reading ``url``; stopped on leaving."""
    conf = directory / "collectd.conf"
    conf.write_text(CONFIG.format(host=HOST, tmp=directory, url=url, more=more,
                                  module_path=REPO / "plugins" / "collectd"))  # fmt: skip
    proc = subprocess.Popen([binary, "-f", "-C", str(conf)], stderr=subprocess.STDOUT,
                            stdout=(directory / "stdout.log").open("w"))  # fmt: skip
    try:
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _text(path: Path) -> str:
    return path.read_text() if path.exists() else ""
