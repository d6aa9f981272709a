"""Fixtures for the AMQP integration tests: unique names, connections (on `reactor_thread`).

Runs in the pytest process. ``rabbitmq`` (the private node) is tests/integration/conftest.py's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hub.transports.amqp.connection import AmqpConnection
from tests.integration.transports.amqp.support import ReactorThread

_serial = itertools.count(1)


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A queue-name and topic prefix no other test uses (queues outlive tests on the node)."""
    return f"hubtest.{next(_serial)}.{request.node.name.replace('[', '.').rstrip(']')}"


@pytest.fixture
def connections(reactor_thread: ReactorThread) -> Iterator[Callable[..., AmqpConnection]]:
    """Build and start an AmqpConnection on the reactor; every one is stopped afterwards."""
    made: list[AmqpConnection] = []

    def make(*args: Any, **kwargs: Any) -> AmqpConnection:
        kwargs.setdefault("on_failure", lambda exc: None)
        conn = reactor_thread.call(lambda: AmqpConnection(reactor_thread.reactor, *args, **kwargs))
        made.append(conn)
        reactor_thread.call(conn.start)
        return conn

    yield make
    for conn in made:
        reactor_thread.call(conn.stop)
