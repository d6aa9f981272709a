"""``/metrics``: the snapshot in Prometheus text exposition format, via prometheus-client.

Runs on the reactor thread. `SnapshotCollector` is a custom collector: each scrape calls
``HubService.snapshot()`` once and turns it into metric families (``hub.observe.metricdefs`` names
them), so /metrics, /status and statsd always show the same figures. The page renders synchronously
with ``generate_latest`` on the reactor: prometheus-client's own Twisted resource runs the WSGI
app on the reactor's thread pool, which would read reactor-owned state from another thread.

Counters are exported as counters (``_total``), levels as gauges, queue wait, consume duration
and latency as histograms (``_bucket``, ``_sum``, ``_count``: every counted message, buckets in
``hub.observe.histograms``), the version as ``consumer_hub_build_info{version}``. The registry also
holds prometheus-client's process collector (``process_*``: memory, CPU, descriptors, start time,
read from /proc at scrape time) and platform collector (``python_info``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from twisted.web.server import Request

from hub.observe.metricdefs import BY_CAUSE, COUNTER, HISTOGRAM, MetricDef
from hub.observe.samples import Sample, prom_name, samples

Snapshot = Callable[[], dict[str, Any]]
Family = GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily


def _labels(sample: Sample) -> dict[str, str]:
    labels = {} if sample.consumer is None else {sample.metric.scope: sample.consumer}
    if sample.label is not None:
        labels[sample.label[0]] = sample.label[1]
    return labels


def _family(metric: MetricDef, name: str, labels: list[str]) -> Family:
    description = f"{metric.help} ({metric.unit})"
    if metric.kind in (COUNTER, BY_CAUSE):
        return CounterMetricFamily(name, description, labels=labels)
    if metric.kind == HISTOGRAM:
        return HistogramMetricFamily(name, description, labels=labels)
    return GaugeMetricFamily(name, description, labels=labels)


def _le(bound: float) -> str:
    """A bucket's ``le`` as prometheus-client's own histograms spell it (0.005, 1.0, 60.0)."""
    return str(floatToGoString(bound))  # type: ignore[no-untyped-call]


def _add(family: Family, sample: Sample, values: list[str]) -> None:
    if isinstance(family, HistogramMetricFamily):
        buckets = [(_le(bound), count) for bound, count in sample.buckets]
        buckets.append(("+Inf", sample.value))
        family.add_metric(values, buckets, sample.total)
    else:
        family.add_metric(values, sample.value)


class SnapshotCollector(Collector):
    """Yields one family per exported figure of the current snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Family] = {}
        for sample in samples(self.snapshot()):
            if sample.metric.prom is None:
                continue  # statsd only: ``prom_instead`` carries it
            name = prom_name(sample.metric, sample.consumer is not None)
            labels = _labels(sample)
            family = families.get(name)
            if family is None:
                family = families[name] = _family(sample.metric, name, list(labels))
            _add(family, sample, list(labels.values()))
        yield from families.values()


class MetricsPage:
    """The /metrics page of the status endpoint."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ProcessCollector(registry=None))
        self.registry.register(PlatformCollector(registry=None))
        self.collector = SnapshotCollector(snapshot)
        self._registered = False

    def render(self, request: Request) -> bytes:
        if not self._registered:
            self.registry.register(self.collector)
            self._registered = True
        request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode("ascii"))
        return generate_latest(self.registry)
