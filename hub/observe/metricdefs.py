"""The catalogue of exported metrics: which snapshot key becomes which statsd and Prometheus name.

Pure data: read on whichever thread uses it (the reactor, for the statsd sink and /metrics).
`hub.observe.samples` walks a `HubService.snapshot()` with these rows and yields one sample per
exported value; the statsd sink (``hub.observe.statsd``) and the Prometheus collector
(``hub.observe.prometheus``) only differ in how they spell a sample. docs/metrics.md lists every
row.

One catalogue, no drift: every figure of /status is either a row here (exported to statsd, to
Prometheus, or both) or in `STATUS_ONLY` with the reason it is not exported; tests check both
ways against a real hub. A row with no name for one sink says where that sink finds the figure
instead (``prom_instead``: the Prometheus family that stands in, such as the process collector's
``process_resident_memory_bytes``). A row whose key is absent from a snapshot (for example
``backlog_disk`` on a hub without a disk backlog) is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.workers.producer_life import STATES as PRODUCER_STATES

GAUGE = "gauge"  # a level, sent every interval
COUNTER = "counter"  # only grows; statsd gets the delta since the last flush
BY_CAUSE = "by_cause"  # a mapping cause (or the row's ``by``) -> counter
TIMING = "timing"  # a window summary {p50, p90, p99, max}: statsd gauges
HISTOGRAM = "histogram"  # {count, sum, buckets}: a Prometheus histogram
WORKERS = "workers"  # the list of worker states; exported as a count per state
ENUM = "enum"  # one of STATES; exported as 1 for the current one, 0 for the others
FLAG = "flag"  # a bool; exported as 1 or 0
INFO = "info"  # a string; exported as 1 with the string in the label ``by``

QUANTILES = (("p50", "0.5"), ("p90", "0.9"), ("p99", "0.99"), ("max", "1"))
WORKER_STATES = ("idle", "busy", "stuck")
STATES = ("starting", "running", "halted", "failed", "stopping", "stopped", "abandoned")
PROM_PREFIX = "consumer_hub_"


@dataclass(frozen=True)
class MetricDef:
    """One exported figure."""

    key: str  # the key in the hub or consumer snapshot
    kind: str  # GAUGE, COUNTER, BY_CAUSE, TIMING, HISTOGRAM, WORKERS, ENUM, FLAG or INFO
    unit: str  # of the snapshot value
    help: str
    statsd: str | None  # the name under <prefix>. (hub) or <prefix>.<scope>.<name>. (per name)
    prom: str | None  # the Prometheus family name, without consumer_hub_ (and _total)
    scale: float = 1.0  # statsd value = snapshot value * scale (seconds -> ms)
    states: tuple[str, ...] = STATES  # ENUM: the states exported
    scope: str = "consumer"  # per-name rows: the label, statsd part and Prometheus prefix
    by: str = "cause"  # BY_CAUSE, INFO: the label its keys (or its value) go in
    prom_instead: str = ""  # prom None: the full name of the family that carries it instead


HUB_METRICS: tuple[MetricDef, ...] = (
    MetricDef("received", COUNTER, "messages", "Messages received from the bus",
              "received", "received"),
    MetricDef("unmatched", COUNTER, "messages", "Messages no consumer subscribed to",
              "unmatched", "unmatched"),
    MetricDef("decode_errors", BY_CAUSE, "messages", "Malformed messages skipped, by cause",
              "decode_errors", "decode_errors"),
    MetricDef("signatures_checked", COUNTER, "messages", "fedmsg signatures checked",
              "signatures_checked", "signatures_checked"),
    MetricDef("signatures_refused", BY_CAUSE, "messages",
              "Messages dropped for their signature, by cause", "signatures_refused",
              "signatures_refused"),
    MetricDef("curve_refused", BY_CAUSE, "handshakes", "CURVE peers refused, by socket and why",
              "curve_refused", "curve_refused"),
    MetricDef("input_paused_s", COUNTER, "seconds",
              "Time input was paused: the log at its disk budget, or a write the disk refused",
              "input_paused_ms", "input_paused_seconds", 1000.0),
    MetricDef("input_pauses", COUNTER, "pauses",
              "Times input was paused: the log at its disk budget, or a write the disk refused",
              "input_pauses", "input_pauses"),
    MetricDef("upstream_gaps", COUNTER, "messages", "Messages known lost upstream",
              "upstream_gaps", "upstream_gaps"),
    MetricDef("upstream_restarts", COUNTER, "restarts",
              "Publishers seen restarting their i counter", "upstream_restarts",
              "upstream_restarts"),
    MetricDef("published", COUNTER, "messages", "Messages hub.publish() sent", "published",
              "published"),
    MetricDef("publish_dropped", COUNTER, "messages",
              "Messages hub.publish() dropped (hub stopping, or the send high-water mark reached)",
              "publish_dropped", "publish_dropped"),
    MetricDef("log_write_errors", COUNTER, "writes", "Batches the durable log refused to write",
              "log_write_errors", "log_write_errors"),
    MetricDef("log_sync_errors", COUNTER, "fsyncs", "fsyncs of the durable log that failed",
              "log_sync_errors", "log_sync_errors"),
    MetricDef("log_rotate_errors", COUNTER, "attempts", "Log segments that could not be started",
              "log_rotate_errors", "log_rotate_errors"),
    MetricDef("cursor_commit_errors", COUNTER, "commits", "Cursor commits the disk refused",
              "cursor_commit_errors", "cursor_commit_errors"),
    MetricDef("disk_full_pauses", COUNTER, "pauses", "Times input paused on the log's disk budget",
              "disk_full_pauses", "disk_full_pauses"),
    MetricDef("log_bytes", GAUGE, "bytes", "Bytes held by the durable log", "log_bytes",
              "log_bytes"),
    MetricDef("log_max_bytes", GAUGE, "bytes", "The durable log's disk budget", "log_max_bytes",
              "log_max_bytes"),
    MetricDef("log_segments", GAUGE, "files", "Segment files of the durable log", "log_segments",
              "log_segments"),
    MetricDef("backlog", GAUGE, "messages", "Messages queued, all consumers",
              "backlog", "backlog"),
    MetricDef("input_connected", FLAG, "bool", "1 while an upstream is connected",
              "input_connected", "input_connected"),
    MetricDef("input_paused", FLAG, "bool", "1 while input is paused",
              "input_paused", "input_paused"),
    MetricDef("version", INFO, "-", "The hub's version (label version), always 1", None,
              "build_info", by="version"),
    MetricDef("started_at", GAUGE, "seconds", "When the hub started (Unix time)", None,
              "start_time_seconds"),
    MetricDef("uptime_s", GAUGE, "seconds", "Seconds since the hub started", "uptime_s", None,
              prom_instead="consumer_hub_start_time_seconds"),
    MetricDef("rss_bytes", GAUGE, "bytes", "Resident memory of the hub process", "rss_bytes",
              None, prom_instead="process_resident_memory_bytes"),
    MetricDef("open_fds", GAUGE, "descriptors", "Open file descriptors of the hub process",
              "open_fds", None, prom_instead="process_open_fds"),
)  # fmt: skip

_C = PROM_PREFIX + "consumer_"
CONSUMER_METRICS: tuple[MetricDef, ...] = (
    MetricDef("backlog", GAUGE, "messages", "Messages queued for the consumer, everywhere",
              "backlog", "backlog"),
    MetricDef("backlog_memory", GAUGE, "messages", "Messages queued in memory",
              "backlog_memory", "backlog_memory"),
    MetricDef("backlog_disk", GAUGE, "messages", "Messages queued on disk",
              "backlog_disk", "backlog_disk"),
    MetricDef("queue_size", GAUGE, "messages", "The in-memory queue's bound",
              "queue_size", "queue_size"),
    MetricDef("oldest_age_s", GAUGE, "seconds", "Age of the oldest queued message",
              "oldest_age_s", "oldest_age_seconds"),
    MetricDef("enqueued", COUNTER, "messages", "Messages routed to the consumer",
              "enqueued", "enqueued"),
    MetricDef("done", COUNTER, "messages", "Messages consumed successfully", "done", "done"),
    MetricDef("failed", COUNTER, "messages", "Messages whose consume() raised",
              "failed", "failed"),
    MetricDef("halted", COUNTER, "messages", "Messages on which the consumer halted",
              "halted", "halted"),
    MetricDef("dropped", BY_CAUSE, "messages", "Messages dropped, by cause",
              "dropped", "dropped"),
    MetricDef("retries", COUNTER, "attempts", "consume() attempts after the first",
              "retries", "retries"),
    MetricDef("counters", BY_CAUSE, "events", "Events the plugin counted (self.counters.add)",
              "events", "events", by="event"),
    MetricDef("dead_letters", GAUGE, "messages", "Dead letters stored, not yet replayed",
              "dead_letters", "dead_letters"),
    MetricDef("worker_restarts", COUNTER, "threads", "Worker threads restarted after dying",
              "worker_restarts", "worker_restarts"),
    MetricDef("read_back", COUNTER, "messages", "Messages read back from the log on disk",
              "read_back", "read_back"),
    MetricDef("spilled", FLAG, "bool", "1 while new messages wait on disk, past the memory window",
              "spilled", "spilled"),
    MetricDef("spills", COUNTER, "times", "Times the consumer spilled to disk", "spills",
              "spills"),
    MetricDef("crash_loop", FLAG, "bool", "1 while worker threads die faster than allowed",
              "crash_loop", "crash_loop"),
    MetricDef("queue_wait_s", TIMING, "seconds", "Enqueued to consume() start, recent window",
              "queue_wait_ms", None, 1000.0, prom_instead=_C + "queue_wait_seconds"),
    MetricDef("duration_s", TIMING, "seconds", "consume() duration, recent window",
              "duration_ms", None, 1000.0, prom_instead=_C + "duration_seconds"),
    MetricDef("latency_s", TIMING, "seconds", "Envelope timestamp to consume() done, recent window",
              "latency_ms", None, 1000.0, prom_instead=_C + "latency_seconds"),
    MetricDef("queue_wait_hist", HISTOGRAM, "seconds",
              "Enqueued to consume() start, every done, failed or dropped message", None,
              "queue_wait_seconds"),
    MetricDef("duration_hist", HISTOGRAM, "seconds",
              "consume() duration (first attempt to last), every done, failed or dropped message",
              None, "duration_seconds"),
    MetricDef("latency_hist", HISTOGRAM, "seconds",
              "Envelope timestamp to consume() done, every counted message with a timestamp",
              None, "latency_seconds"),
    MetricDef("workers", WORKERS, "threads", "Worker threads by state (idle, busy, stuck)",
              "workers", "workers"),
    MetricDef("state", ENUM, "state", "1 for the consumer's current state", "state", "state"),
)  # fmt: skip


P = "producer"  # the scope of the rows below
PRODUCER_METRICS: tuple[MetricDef, ...] = (
    MetricDef("polls", COUNTER, "polls", "poll() calls finished", "polls", "polls", scope=P),
    MetricDef("failures", COUNTER, "polls", "poll() calls that raised", "failures", "failures",
              scope=P),
    MetricDef("overruns", COUNTER, "polls", "poll() calls that ended after the next was due",
              "overruns", "overruns", scope=P),
    MetricDef("restarts", COUNTER, "threads", "Producer threads restarted after dying",
              "restarts", "restarts", scope=P),
    MetricDef("crash_loop", FLAG, "bool", "1 while the producer's thread dies faster than allowed",
              "crash_loop", "crash_loop", scope=P),
    MetricDef("last_duration_s", GAUGE, "seconds", "Duration of the last finished poll()",
              "last_duration_ms", "last_duration_seconds", 1000.0, scope=P),
    MetricDef("last_run_at", GAUGE, "seconds", "When the last poll() started (Unix time)",
              "last_run_at", "last_run_timestamp_seconds", scope=P),
    MetricDef("stuck", FLAG, "bool", "1 while a poll() runs longer than stuck_after_s",
              "stuck", "stuck", scope=P),
    MetricDef("state", ENUM, "state", "1 for the producer's current state", "state", "state",
              states=PRODUCER_STATES, scope=P),
)  # fmt: skip


# /status figures that are not exported, and why: section -> key -> reason. Figures a plugin adds
# itself (its ``figures()``) are /status-only too, and are not listed.
STATUS_ONLY: dict[str, dict[str, str]] = {
    "hub": {
        "pid": "the process: process_* (prometheus-client's process collector) carry its figures",
        "received_per_s": "a rate: rate(consumer_hub_received_total) in PromQL",
        "log_next_seq": "a position in the log, kept across restarts: not a count",
        "log_writes": "log append calls: how the hub batches, not what it did",
        "fsync": "configuration (backlog.fsync), text",
        "state_dir": "configuration, text",
    },
    "consumer": {
        "class": "configuration, text", "kind": "configuration, text",
        "topics": "configuration, a list", "threads": "configuration: the sum of workers{state}",
        "error": "text: why the consumer failed (state exports that it did)",
        "in_per_s": "a rate: rate(..._enqueued_total)",
        "out_per_s": "a rate: of done, failed and dropped",
        "backlog_history": "the last 600 backlog values (top's sparkline); backlog is exported",
        "cursor": "a position in the log, kept across restarts: not a count",
        "retrying": "a list of messages waiting for their next attempt (retries_total counts them)",
        "stuck_workers": "the same as workers{state=\"stuck\"}",
        "worker_deaths": "deaths inside the crash-loop window; worker_restarts_total counts all",
        "restarts_pending": "threads waiting out their restart backoff: seconds-long, transient",
    },
    "producer": {
        "class": "configuration, text", "kind": "configuration, text",
        "interval_s": "configuration", "stuck_after_s": "configuration",
        "error": "text: the last failure or death",
        "next_at": "the schedule: last_run_timestamp_seconds and overruns_total are exported",
        "polling_for_s": "the poll under way; stuck exports when it is too long",
        "deaths": "threads that died: restarts_total counts those restarted",
    },
}  # fmt: skip

SECTIONS: dict[str, tuple[MetricDef, ...]] = {
    "hub": HUB_METRICS,
    "consumer": CONSUMER_METRICS,
    "producer": PRODUCER_METRICS,
}


def undeclared(section: str, doc: Mapping[str, Any]) -> set[str]:
    """Keys of one /status section (``hub``, one consumer's, one producer's) that are neither a
    row nor in `STATUS_ONLY`: drift, which the tests refuse."""
    return set(doc) - {m.key for m in SECTIONS[section]} - set(STATUS_ONLY[section])
