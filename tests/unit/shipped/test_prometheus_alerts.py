"""plugins/prometheus: the alert rules are well formed and use only metrics the hub exports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from tests.unit.scrape import exported_samples

RULES = Path(__file__).resolve().parents[3] / "plugins" / "prometheus" / "consumer-hub-alerts.yml"


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_every_rule_has_a_name_an_expression_a_severity_and_a_summary() -> None:
    """Each rule is an alert with expr, a known severity and a summary; names are unique."""
    rules = _rules()
    assert len({r["alert"] for r in rules}) == len(rules) >= 10
    for rule in rules:
        assert rule["expr"].strip() and rule["annotations"]["summary"], rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]


def test_every_expression_is_valid_promql() -> None:
    """Each rule's expression parses as PromQL (the parser Prometheus' own grammar follows)."""
    for rule in _rules():
        promql_parser.parse(rule["expr"])


def test_every_metric_and_label_value_used_is_exported() -> None:
    """consumer_hub_* names exist in /metrics, and so do the state values the rules select."""
    samples = exported_samples()
    names = {name for name, _ in samples}
    used = {n for r in _rules() for n in re.findall(r"consumer_hub_[a-z_]+", r["expr"])}
    assert used and used <= names, used - names
    states = {labels.get("state") for name, labels in samples}
    for rule in _rules():
        for wanted in re.findall(r'state=~?"([a-z|]+)"', rule["expr"]):
            assert set(wanted.split("|")) <= states, (rule["alert"], wanted)
