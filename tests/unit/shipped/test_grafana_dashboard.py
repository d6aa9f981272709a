"""plugins/grafana: the dashboard is valid JSON and queries only metrics the hub exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser

from tests.unit.scrape import exported_samples

DASHBOARD = Path(__file__).resolve().parents[3] / "plugins" / "grafana" / "consumer-hub.json"


def _dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())  # type: ignore[no-any-return]


def _exported() -> set[str]:
    return {name for name, _ in exported_samples()}


def test_every_queried_metric_is_exported() -> None:
    """Each consumer_hub_* name in a query or variable exists in /metrics."""
    text = json.dumps(_dashboard())
    used = set(re.findall(r"consumer_hub_[a-z_]+", text))
    assert used and used <= _exported(), used - _exported()


def test_every_query_is_valid_promql() -> None:
    """Each panel's query parses as PromQL once Grafana's range variable is filled in."""
    for panel in _dashboard()["panels"]:
        for target in panel.get("targets", []):
            promql_parser.parse(target["expr"].replace("$__rate_interval", "5m"))


def test_consumer_variable_drives_a_repeated_row() -> None:
    """A multi-value `consumer` variable from label_values, and a row repeated over it."""
    dash = _dashboard()
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert "label_values(consumer_hub_consumer_backlog" in variables["consumer"]["definition"]
    assert variables["consumer"]["multi"] is True
    rows = [p for p in dash["panels"] if p["type"] == "row"]
    assert [r.get("repeat") for r in rows] == ["consumer"]
    titles = " ".join(p["title"] for p in dash["panels"])
    assert "Backlog" in titles and "Queue wait" in titles and "duration" in titles


def test_panels_use_the_datasource_input() -> None:
    """Import asks for a Prometheus data source; every panel uses it."""
    dash = _dashboard()
    assert dash["__inputs"][0]["pluginId"] == "prometheus"
    for panel in dash["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
