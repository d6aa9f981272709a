"""The catalogue of exported metrics: which snapshot key becomes which statsd and Prometheus name.

Pure data and pure functions: runs on whichever thread calls it (the reactor, for the statsd
sink and /metrics). `samples()` walks a `HubService.snapshot()` and yields one `Sample` per
exported value; the statsd sink (``hub.observe.statsd``) and the Prometheus collector
(``hub.observe.prometheus``) only differ in how they spell a sample. docs/metrics.md lists every
row.

Adding a figure to the snapshot and one row here exports it everywhere. A row whose key is
absent from a snapshot (for example ``backlog_disk`` on a hub without a disk backlog) is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hub.workers.producer_life import STATES as PRODUCER_STATES

GAUGE = "gauge"  # a level, sent every interval
COUNTER = "counter"  # only grows; statsd gets the delta since the last flush
BY_CAUSE = "by_cause"  # a mapping cause (or the row's ``by``) -> counter
TIMING = "timing"  # a window summary {p50, p90, p99, max}; exported as gauges
WORKERS = "workers"  # the list of worker states; exported as a count per state
ENUM = "enum"  # one of STATES; exported as 1 for the current one, 0 for the others
FLAG = "flag"  # a bool; exported as 1 or 0

QUANTILES = (("p50", "0.5"), ("p90", "0.9"), ("p99", "0.99"), ("max", "1"))
WORKER_STATES = ("idle", "busy", "stuck")
STATES = ("starting", "running", "halted", "failed", "stopping", "stopped", "abandoned")
PROM_PREFIX = "consumer_hub_"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class MetricDef:
    """One exported figure."""

    key: str  # the key in the hub or consumer snapshot
    kind: str  # GAUGE, COUNTER, BY_CAUSE, TIMING, WORKERS, ENUM or FLAG
    unit: str  # of the snapshot value
    help: str
    statsd: str  # the name under <prefix>. (hub) or <prefix>.<scope>.<name>. (per name)
    prom: str  # the Prometheus family name, without consumer_hub_ (and _total)
    scale: float = 1.0  # statsd value = snapshot value * scale (seconds -> ms)
    states: tuple[str, ...] = STATES  # ENUM: the states exported
    scope: str = "consumer"  # per-name rows: the label, statsd part and Prometheus prefix
    by: str = "cause"  # BY_CAUSE: the label its keys go in


HUB_METRICS: tuple[MetricDef, ...] = (
    MetricDef("received", COUNTER, "messages", "Messages received from the bus",
              "received", "received"),
    MetricDef("unmatched", COUNTER, "messages", "Messages no consumer subscribed to",
              "unmatched", "unmatched"),
    MetricDef("decode_errors", BY_CAUSE, "messages", "Malformed messages skipped, by cause",
              "decode_errors", "decode_errors"),
    MetricDef("input_paused_s", COUNTER, "seconds", "Time input was paused by a full queue",
              "input_paused_ms", "input_paused_seconds", 1000.0),
    MetricDef("input_pauses", COUNTER, "pauses", "Times input was paused by a full queue",
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
    MetricDef("backlog", GAUGE, "messages", "Messages queued, all consumers",
              "backlog", "backlog"),
    MetricDef("input_connected", FLAG, "bool", "1 while an upstream is connected",
              "input_connected", "input_connected"),
    MetricDef("input_paused", FLAG, "bool", "1 while input is paused",
              "input_paused", "input_paused"),
    MetricDef("uptime_s", GAUGE, "seconds", "Seconds since the hub started",
              "uptime_s", "uptime_seconds"),
    MetricDef("rss_bytes", GAUGE, "bytes", "Resident memory of the hub process",
              "rss_bytes", "resident_memory_bytes"),
    MetricDef("open_fds", GAUGE, "descriptors", "Open file descriptors of the hub process",
              "open_fds", "open_fds"),
)  # fmt: skip

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
    MetricDef("queue_wait_s", TIMING, "seconds", "Enqueued to consume() start, recent window",
              "queue_wait_ms", "queue_wait_seconds", 1000.0),
    MetricDef("duration_s", TIMING, "seconds", "consume() duration, recent window",
              "duration_ms", "duration_seconds", 1000.0),
    MetricDef("latency_s", TIMING, "seconds", "Envelope timestamp to consume() done, recent window",
              "latency_ms", "latency_seconds", 1000.0),
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
    MetricDef("last_duration_s", GAUGE, "seconds", "Duration of the last finished poll()",
              "last_duration_ms", "last_duration_seconds", 1000.0, scope=P),
    MetricDef("last_run_at", GAUGE, "seconds", "When the last poll() started (Unix time)",
              "last_run_at", "last_run_timestamp_seconds", scope=P),
    MetricDef("stuck", FLAG, "bool", "1 while a poll() runs longer than stuck_after_s",
              "stuck", "stuck", scope=P),
    MetricDef("state", ENUM, "state", "1 for the producer's current state", "state", "state",
              states=PRODUCER_STATES, scope=P),
)  # fmt: skip


@dataclass(frozen=True)
class Sample:
    """One exported value: ``label`` is (label name, value) for causes, quantiles and states."""

    metric: MetricDef
    consumer: str | None  # the consumer's, or (``metric.scope`` "producer") the producer's name
    label: tuple[str, str] | None
    suffix: str | None  # the statsd name part for ``label`` (cause, p50, state)
    value: float


def samples(snapshot: Mapping[str, Any]) -> Iterator[Sample]:
    """Every exported value of ``snapshot``: hub-wide first, then per consumer, then per
    producer, in name order."""
    for metric in HUB_METRICS:
        yield from _expand(metric, None, snapshot.get("hub", {}))
    for section, metrics in (("consumers", CONSUMER_METRICS), ("producers", PRODUCER_METRICS)):
        docs = snapshot.get(section, {})
        for name in sorted(docs):
            for metric in metrics:
                yield from _expand(metric, name, docs[name])


def _expand(metric: MetricDef, consumer: str | None, doc: Mapping[str, Any]) -> Iterator[Sample]:
    if metric.key not in doc:
        return
    expand = _EXPANDERS.get(metric.kind)
    if expand is not None:
        yield from expand(metric, consumer, doc[metric.key])


def _scalar(metric: MetricDef, consumer: str | None, value: Any) -> Iterator[Sample]:
    """GAUGE, COUNTER, FLAG: the value itself, unless it is unknown (None)."""
    if value is not None:
        yield Sample(metric, consumer, None, None, float(value))


def _by_cause(metric: MetricDef, consumer: str | None, value: Any) -> Iterator[Sample]:
    for cause in sorted(value):
        yield Sample(metric, consumer, (metric.by, cause), safe_name(cause), float(value[cause]))


def _timing(metric: MetricDef, consumer: str | None, value: Any) -> Iterator[Sample]:
    for field, quantile in QUANTILES:
        if value.get(field) is not None:
            yield Sample(metric, consumer, ("quantile", quantile), field, value[field])


def _workers(metric: MetricDef, consumer: str | None, value: Any) -> Iterator[Sample]:
    for state in WORKER_STATES:
        count = sum(1 for worker in value if worker.get("state") == state)
        yield Sample(metric, consumer, ("state", state), state, float(count))


def _enum(metric: MetricDef, consumer: str | None, value: Any) -> Iterator[Sample]:
    for state in metric.states:
        yield Sample(metric, consumer, ("state", state), state, float(value == state))


# the snapshot value of one row -> its samples, by kind
_EXPANDERS: dict[str, Callable[[MetricDef, str | None, Any], Iterator[Sample]]] = {
    GAUGE: _scalar,
    COUNTER: _scalar,
    FLAG: _scalar,
    BY_CAUSE: _by_cause,
    TIMING: _timing,
    WORKERS: _workers,
    ENUM: _enum,
}


def safe_name(part: str) -> str:
    """``part`` usable as one dot-separated component of a statsd/Graphite name."""
    return _UNSAFE.sub("_", part) or "_"


def statsd_name(sample: Sample) -> str:
    """The statsd name of ``sample``, without the configured prefix."""
    parts = [] if sample.consumer is None else [sample.metric.scope, safe_name(sample.consumer)]
    parts.append(sample.metric.statsd)
    if sample.suffix is not None:
        parts.append(sample.suffix)
    return ".".join(parts)


def prom_name(metric: MetricDef, consumer_scope: bool) -> str:
    """The Prometheus family name of ``metric`` (counters get ``_total`` from the client);
    ``consumer_scope``: a per-name row (consumer or producer, ``metric.scope``)."""
    scope = f"{metric.scope}_" if consumer_scope else ""
    return f"{PROM_PREFIX}{scope}{metric.prom}"
