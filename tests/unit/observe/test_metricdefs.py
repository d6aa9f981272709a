"""hub.observe.metricdefs: one catalogue, every /status figure in it or listed as /status-only."""

from __future__ import annotations

from hub.observe.metricdefs import SECTIONS as TABLES
from hub.observe.metricdefs import STATUS_ONLY, MetricDef, undeclared
from tests.unit.snapshots import snapshot


def test_catalogue_names_are_unique() -> None:
    """No two rows share a statsd or Prometheus name, or a key, within their scope."""
    for table in TABLES.values():
        statsd = [m.statsd for m in table if m.statsd is not None]
        prom = [m.prom for m in table if m.prom is not None]
        assert len(set(statsd)) == len(statsd) and len(set(prom)) == len(prom)
        assert len({m.key for m in table}) == len(table)


def test_every_row_reaches_a_sink_and_names_its_stand_in() -> None:
    """A row has a statsd or Prometheus name; one without a Prometheus name says which family
    carries it instead."""
    rows: list[MetricDef] = [m for table in TABLES.values() for m in table]
    for row in rows:
        assert row.statsd is not None or row.prom is not None, row.key
        assert (row.prom is None) == bool(row.prom_instead), row.key


def test_no_key_is_both_exported_and_status_only() -> None:
    """A figure is a row or /status-only, never both."""
    for section, table in TABLES.items():
        assert not {m.key for m in table} & set(STATUS_ONLY[section]), section


def test_the_test_snapshot_declares_every_key() -> None:
    """The hand-made snapshot the exporter tests use has no figure the catalogue ignores."""
    doc = snapshot()
    assert undeclared("hub", doc["hub"]) == set()
    assert undeclared("consumer", doc["consumers"]["audit.log"]) == set()
    assert undeclared("producer", doc["producers"]["ticker"]) == set()


def test_a_new_status_figure_is_drift_until_declared() -> None:
    """A key added to /status without a row or a STATUS_ONLY reason is reported."""
    doc = snapshot()
    doc["hub"]["frobs"] = 3
    assert undeclared("hub", doc["hub"]) == {"frobs"}
