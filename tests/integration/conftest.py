"""Integration fixtures shared across directories: the private RabbitMQ node (`rabbitmq`), and
unique queue and topic names on it (`names`).

Runs in the pytest process. The fixture lives in ``tests/integration/servers/rabbitmq.py``;
it is imported here so that every integration test directory shares one node per session.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest

from tests.integration.servers.rabbitmq import STARTED, rabbitmq

__all__ = ["rabbitmq"]

_serial = itertools.count(1)


@pytest.fixture
def names() -> tuple[str, str]:
    """A queue prefix and a topic root no other test uses (queues outlive a test on the node)."""
    n = next(_serial)
    return f"hubtest-{os.getpid()}-{n}", f"org.test.amqp{n}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per RabbitMQ node the session started: its name and start-up time."""
    for broker in STARTED:
        terminalreporter.write_line(
            f"rabbitmq: private node {broker.node} on 127.0.0.1:{broker.amqp_port} "
            f"answered AMQP {broker.startup_s:.1f} s after start"
        )
