"""Scraping `hub.observe.prometheus.MetricsPage` without a web server, for the exporter unit
tests."""

from __future__ import annotations

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
