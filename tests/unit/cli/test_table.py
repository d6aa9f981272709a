"""hub.cli.table: the text of ``status`` and ``top``: order, units, sparkline, laggard marks."""

from __future__ import annotations

from hub.cli.table import (
    RED,
    falling_behind,
    render_producers,
    render_status,
    render_top,
    seconds,
    sparkline,
    worker_label,
)
from tests.unit.snapshots import snapshot


def test_durations_are_short_and_readable() -> None:
    """Microseconds to hours, each with its unit; unknown is '-'."""
    assert [seconds(v) for v in (None, 0, 0.0004, 0.012, 3.42, 302, 7620)] == [
        "-", "0s", "400us", "12ms", "3.4s", "5m02s", "2h07m",
    ]  # fmt: skip


def test_sparkline_scales_to_its_maximum_and_width() -> None:
    """Each bar is the maximum of its bucket, scaled to the tallest; width is bounded."""
    assert sparkline([0, 4, 8]) == "▁▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""
    assert len(sparkline(list(range(600)), width=20, span=300)) == 20


def test_growing_backlog_or_stuck_worker_is_falling_behind() -> None:
    """Growth over the last ten seconds, a stuck thread, or a halted consumer with a backlog."""
    assert falling_behind(snapshot()["consumers"]["audit.log"])  # history 0, 1, 3, 7
    assert not falling_behind(snapshot(backlog_history=[9, 8, 7])["consumers"]["audit.log"])
    assert not falling_behind(snapshot(backlog=0, backlog_history=[0, 1])["consumers"]["audit.log"])
    stuck = [{"state": "stuck", "busy_for_s": 400.0}]
    assert falling_behind(snapshot(workers=stuck, backlog_history=[])["consumers"]["audit.log"])
    halted = snapshot(state="halted", backlog_history=[])["consumers"]["audit.log"]
    assert falling_behind(halted)


def test_worker_label_says_what_threads_do() -> None:
    """A running consumer shows busy n/m, idle or stuck; others show their state."""
    assert worker_label(snapshot()["consumers"]["audit.log"]) == "busy 1/2"
    assert worker_label({"state": "running", "workers": [{"state": "idle"}]}) == "idle"
    stuck = {"state": "running", "workers": [{"state": "stuck", "busy_for_s": 400.0}]}
    assert worker_label(stuck) == "stuck 6m40s"
    assert worker_label({"state": "halted"}) == "halted"


def test_status_table_sorts_by_backlog_and_marks_laggards() -> None:
    """The largest backlog comes first and a consumer falling behind is marked '!'."""
    doc = snapshot()
    quiet = dict(doc["consumers"]["audit.log"], backlog=0, backlog_history=[0, 0])
    doc["consumers"]["aaa-quiet"] = quiet
    lines = render_status(doc)
    assert lines[0].startswith("hub 0.1.0 pid 42")
    assert "CONSUMER" in lines[2] and "BACKLOG" in lines[2]
    assert lines[3].startswith("! audit.log")
    assert lines[4].startswith("  aaa-quiet")


def test_top_colours_laggards_only_when_asked() -> None:
    """With colour the laggard's row is red; without, it is marked '!'."""
    coloured = render_top(snapshot(), color=True)
    plain = render_top(snapshot(), color=False)
    assert any(line.startswith(RED + "! audit.log") for line in coloured)
    assert any(line.startswith("! audit.log") and line.endswith("▁▂▄█") for line in plain)


def test_no_consumers_says_so() -> None:
    """An empty hub renders its hub line and says there are no consumers."""
    assert render_status({"hub": {}, "consumers": {}})[-1] == "no consumers"


def test_producers_table_shows_schedule_and_counts_marking_stuck_ones() -> None:
    """One row per producer: state, interval, last run, duration, next, counters; '!' if stuck."""
    doc = {"producers": {
        "ok": {"state": "idle", "interval_s": 0.2, "last_run_at": 99.0, "last_duration_s": 0.01,
               "next_at": 100.5, "polls": 9, "failures": 3, "overruns": 0, "restarts": 0},
        "slow": {"state": "stuck", "polling_for_s": 400.0, "interval_s": 60.0},
    }}  # fmt: skip
    lines = render_producers(doc, now=100.0)
    assert lines[1].split()[:3] == ["PRODUCER", "STATE", "EVERY"]
    assert lines[2].split() == ["ok", "idle", "200ms", "1.0s", "10ms", "500ms", "9", "3", "0", "0"]
    assert lines[3].startswith("! slow") and "stuck 6m40s" in lines[3]
    assert render_producers({"consumers": {}}, now=0.0) == []
