"""Integration fixtures shared across directories: the private RabbitMQ node (`rabbitmq`),
unique queue and topic names on it (`names`), the private PostgreSQL cluster (`postgresql`)
and a fresh database on it per test (`postgresql_db`), and the Twisted reactor running in a
thread of its own (`reactor_thread`: one per session, as a reactor cannot be restarted).

Runs in the pytest process. The servers live in ``tests/integration/servers/``; their fixtures
are imported here so that every integration test directory shares one of each per session.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.servers import postgresql as _postgresql
from tests.integration.servers.postgresql import postgresql, postgresql_db
from tests.integration.servers.rabbitmq import STARTED, rabbitmq
from tests.integration.transports.amqp.support import ReactorThread

__all__ = ["postgresql", "postgresql_db", "rabbitmq"]


@pytest.fixture(scope="session")
def reactor_thread() -> Iterator[ReactorThread]:
    """The Twisted reactor, running in its own thread for the whole session."""
    thread = ReactorThread().start()
    yield thread
    thread.stop()


_serial = itertools.count(1)


@pytest.fixture
def names() -> tuple[str, str]:
    """A queue prefix and a topic root no other test uses (queues outlive a test on the node)."""
    n = next(_serial)
    return f"hubtest-{os.getpid()}-{n}", f"org.test.amqp{n}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per RabbitMQ node and PostgreSQL cluster the session started: where it listened
    and how long it took to answer."""
    for broker in STARTED:
        terminalreporter.write_line(
            f"rabbitmq: private node {broker.node} on 127.0.0.1:{broker.amqp_port} "
            f"answered AMQP {broker.startup_s:.1f} s after start"
        )
    for server in _postgresql.STARTED:
        terminalreporter.write_line(
            f"postgresql: private {server.version} cluster on 127.0.0.1:{server.port} "
            f"answered a connection {server.startup_s:.1f} s after initdb"
        )
