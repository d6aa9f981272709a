"""Fixtures for the import-config tests: fixture paths and a real ``moksha.consumer`` registry."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "import_data"
FEDMSG_D = DATA / "fedmsg.d"
TOML = DATA / "fedora-messaging.toml"

ENTRY_POINTS = """\
[moksha.consumer]
test-bodhi = tests.unit.cli.moksha_consumers:BodhiConsumer
test-off = tests.unit.cli.moksha_consumers:OffConsumer
test-many = tests.unit.cli.moksha_consumers:ManyTopics
test-nokey = tests.unit.cli.moksha_consumers:NoConfigKey
test-broken = hub_tests_no_such_module:Consumer
"""


@pytest.fixture
def moksha_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed distribution (a ``*.dist-info`` on sys.path) registering the test classes
    in ``moksha.consumer``, found by the real importlib.metadata."""
    site = tmp_path / "site"
    info = site / "hub_test_moksha_consumers-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hub-test-moksha-consumers\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    return site
