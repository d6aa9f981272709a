"""hub.observe.snapshot: pauses count as they run; process figures come from /proc as process_*
do, and are left out when it cannot be read."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prometheus_client import ProcessCollector

from hub.observe.samples import samples, statsd_name
from hub.observe.snapshot import hub_snapshot
from hub.observe.stats import Stats


def test_a_pause_under_way_counts_in_input_paused_s() -> None:
    """input_paused_s includes the current pause, not only the ones that ended."""
    stats = Stats()
    stats.on_paused(2.0)
    running = hub_snapshot(stats, 0.0, True, None, 10.0)
    paused = hub_snapshot(stats, 0.0, True, time.monotonic() - 3.0, 10.0)
    assert running["input_paused_s"] == 2.0 and not running["input_paused"]
    assert paused["input_paused"] and 5.0 <= paused["input_paused_s"] < 6.0


def test_process_figures_are_left_out_when_proc_cannot_be_read(
    monkeypatch: Any, tmp_path: Path
) -> None:
    """/proc unreadable (as when out of file descriptors): the snapshot still builds, and the
    two process figures are None, so no sink exports a made-up value."""

    monkeypatch.setattr("hub.observe.snapshot.PROC", str(tmp_path / "unreadable"))
    hub = hub_snapshot(Stats(), 0.0, True, None, 10.0)
    assert (hub["rss_bytes"], hub["open_fds"]) == (None, None) and hub["received"] == 0
    names = {statsd_name(s) for s in samples({"hub": hub})}
    assert "received" in names and not names & {"rss_bytes", "open_fds"}


def test_process_figures_match_what_the_process_collector_reads() -> None:
    """rss_bytes and open_fds come from /proc/self as process_* do, so the two agree."""
    hub = hub_snapshot(Stats(), 0.0, True, None, 10.0)
    families = {f.name: f.samples[0].value for f in ProcessCollector(registry=None).collect()}
    assert abs(hub["rss_bytes"] - families["process_resident_memory_bytes"]) < 16 << 20
    assert abs(hub["open_fds"] - families["process_open_fds"]) <= 2
