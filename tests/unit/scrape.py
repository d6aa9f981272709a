"""Scraping `hub.observe.prometheus.MetricsPage` without a web server, for the exporter unit
tests; checking a scrape's histograms (also used by tests/integration)."""

from __future__ import annotations

import itertools
import math

from prometheus_client.parser import text_string_to_metric_families

from hub.observe.prometheus import MetricsPage
from tests.unit.snapshots import snapshot


class FakeRequest:
    """The one part of ``twisted.web`` request the page touches: its response headers."""

    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}

    def setHeader(self, name: bytes, value: bytes) -> None:
        self.headers[name] = value


def exported_samples() -> list[tuple[str, dict[str, str]]]:
    """(name, labels) of every sample /metrics serves for the test snapshot."""
    body = MetricsPage(snapshot).render(FakeRequest())  # type: ignore[arg-type]
    families = text_string_to_metric_families(body.decode())
    return [(s.name, dict(s.labels)) for f in families for s in f.samples]


Series = dict[str, object]  # "buckets": [(le, count)], "count", "sum"


def histogram_series(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], Series]:
    """Every histogram series of a /metrics ``body``, as prometheus-client's parser reads it:
    (family, labels without le) -> its buckets in exposition order, count and sum."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], Series] = {}
    for family in text_string_to_metric_families(body):
        if family.type != "histogram":
            continue
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            series = found.setdefault((family.name, labels), {"buckets": []})
            part = sample.name[len(family.name) + 1 :]
            if part == "bucket":
                series["buckets"].append((float(sample.labels["le"]), sample.value))  # type: ignore[attr-defined]
            else:
                series[part] = sample.value
    return found


def assert_consistent(name: str, labels: object, series: Series) -> None:
    """Buckets sorted by le and ending at +Inf, cumulative (never falling), +Inf == _count."""
    buckets: list[tuple[float, float]] = series["buckets"]  # type: ignore[assignment]
    bounds = [le for le, _ in buckets]
    counts = [count for _, count in buckets]
    where = f"{name}{labels}"
    assert bounds == sorted(bounds) and math.isinf(bounds[-1]), where
    assert all(a <= b for a, b in itertools.pairwise(counts)), where
    assert counts[-1] == series["count"] and series["sum"] >= 0, where
