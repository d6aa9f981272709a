"""Shared fixtures: the test publisher and hub subprocesses, cleaned up after each test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import HubProcess, TestPublisher


@pytest.fixture
def publisher() -> Iterator[TestPublisher]:
    pub = TestPublisher()
    yield pub
    pub.close()


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[list[HubProcess]]:
    """Hub subprocesses started by a test; any still running are killed afterwards."""
    started: list[HubProcess] = []
    yield started
    for hub in started:
        hub.kill()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is UTC (datagrepper's ``time.mktime()`` reads local time)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
