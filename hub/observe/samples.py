"""Walking a snapshot with the catalogue (`hub.observe.metricdefs`): one `Sample` per value.

Pure functions: runs on whichever thread calls it (the reactor, for the statsd sink and
/metrics). `samples()` yields every exported value of a `HubService.snapshot()`, for both sinks;
each sink keeps the rows it has a name for (``statsd`` or ``prom``) and spells them its way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hub.observe.metricdefs import (
    BY_CAUSE,
    CONSUMER_METRICS,
    COUNTER,
    ENUM,
    FLAG,
    GAUGE,
    HISTOGRAM,
    HUB_METRICS,
    INFO,
    PRODUCER_METRICS,
    PROM_PREFIX,
    QUANTILES,
    TIMING,
    WORKER_STATES,
    WORKERS,
    MetricDef,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Sample:
    """One exported value: ``label`` is (label name, value) for causes, quantiles and states;
    a HISTOGRAM's ``value`` is its count, with its cumulative ``buckets`` and ``total`` (sum)."""

    metric: MetricDef
    consumer: str | None  # the consumer's, or (``metric.scope`` "producer") the producer's name
    label: tuple[str, str] | None
    suffix: str | None  # the statsd name part for ``label`` (cause, p50, state)
    value: float
    buckets: tuple[tuple[float, float], ...] = ()  # (upper bound, values <= it), without +Inf
    total: float = 0.0


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


def _histogram(metric: MetricDef, consumer: str | None, value: Any) -> Iterator[Sample]:
    buckets = tuple((float(bound), float(count)) for bound, count in value["buckets"])
    yield Sample(metric, consumer, None, None, float(value["count"]), buckets, value["sum"])


def _workers(metric: MetricDef, consumer: str | None, value: Any) -> Iterator[Sample]:
    for state in WORKER_STATES:
        count = sum(1 for worker in value if worker.get("state") == state)
        yield Sample(metric, consumer, ("state", state), state, float(count))


def _enum(metric: MetricDef, consumer: str | None, value: Any) -> Iterator[Sample]:
    for state in metric.states:
        yield Sample(metric, consumer, ("state", state), state, float(value == state))


def _info(metric: MetricDef, consumer: str | None, value: Any) -> Iterator[Sample]:
    if value is not None:
        yield Sample(metric, consumer, (metric.by, str(value)), None, 1.0)


# the snapshot value of one row -> its samples, by kind
_EXPANDERS: dict[str, Callable[[MetricDef, str | None, Any], Iterator[Sample]]] = {
    GAUGE: _scalar,
    COUNTER: _scalar,
    FLAG: _scalar,
    BY_CAUSE: _by_cause,
    TIMING: _timing,
    HISTOGRAM: _histogram,
    WORKERS: _workers,
    ENUM: _enum,
    INFO: _info,
}


def safe_name(part: str) -> str:
    """``part`` usable as one dot-separated component of a statsd/Graphite name."""
    return _UNSAFE.sub("_", part) or "_"


def statsd_name(sample: Sample) -> str:
    """The statsd name of ``sample``, without the configured prefix (its row has one)."""
    parts = [] if sample.consumer is None else [sample.metric.scope, safe_name(sample.consumer)]
    parts.append(sample.metric.statsd or "")
    if sample.suffix is not None:
        parts.append(sample.suffix)
    return ".".join(parts)


def prom_name(metric: MetricDef, consumer_scope: bool) -> str:
    """The Prometheus family name of ``metric`` (counters get ``_total`` from the client);
    ``consumer_scope``: a per-name row (consumer or producer, ``metric.scope``)."""
    scope = f"{metric.scope}_" if consumer_scope else ""
    return f"{PROM_PREFIX}{scope}{metric.prom}"
