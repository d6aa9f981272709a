"""tests.integration.servers.rabbitmq: the private node is private, answers AMQP, and is ours."""

from __future__ import annotations

import os
import pwd

import pika
import pytest

from tests.integration.servers import rabbitmq as rabbitmq_module
from tests.integration.servers.rabbitmq import RabbitMQ

pytestmark = pytest.mark.integration


def test_node_answers_amqp_on_its_own_loopback_port(rabbitmq: RabbitMQ) -> None:
    """The fixture's URL takes an AMQP connection that can declare and use a queue."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    try:
        channel = connection.channel()
        channel.queue_declare("servers.fixture-check", auto_delete=True)
        channel.basic_publish("", "servers.fixture-check", b"ping")
        method, _props, body = channel.basic_get("servers.fixture-check", auto_ack=True)
        assert method is not None and body == b"ping"
    finally:
        connection.close()
    assert rabbitmq.startup_s is not None and rabbitmq.startup_s < 90


def test_ctl_talks_to_this_node_only(rabbitmq: RabbitMQ) -> None:
    """rabbitmqctl reaches the fixture's node by its own name, not the system's default node."""
    status = rabbitmq.ctl("status")
    assert rabbitmq.node in status
    assert "rabbit@" not in rabbitmq.node
    assert rabbitmq.node.startswith(f"hubtest-{os.getpid()}-")


def test_node_keeps_its_data_in_its_own_directory(rabbitmq: RabbitMQ) -> None:
    """Mnesia data and logs are under the fixture's temp dir, owned by the user it runs as."""
    assert any((rabbitmq.root / "mnesia").iterdir())
    assert (rabbitmq.root / "log" / "rabbit.log").exists()
    owner = pwd.getpwuid((rabbitmq.root / "mnesia").stat().st_uid).pw_name
    assert owner == (rabbitmq.user or pwd.getpwuid(os.getuid()).pw_name)
    assert str(rabbitmq.root) in rabbitmq.ctl("eval", "rabbit_mnesia:dir().")


def test_a_second_node_starts_beside_the_first_and_stops_cleanly(rabbitmq: RabbitMQ) -> None:
    """Two private nodes coexist (own name, ports, epmd); stop() removes the second's dir."""
    other = RabbitMQ(rabbitmq.scripts)
    try:
        other.start()
        assert other.answers() and rabbitmq.answers()
        assert {other.amqp_port, other.epmd_port}.isdisjoint(
            {rabbitmq.amqp_port, rabbitmq.epmd_port}
        )
    finally:
        other.stop()
    assert not other.root.exists() and not other.answers()
    assert rabbitmq.answers()


def test_a_missing_broker_skips_naming_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without rabbitmq-server the fixture skips with the apt-get line; under CI=true it fails."""
    monkeypatch.setattr(rabbitmq_module, "find_scripts", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install rabbitmq-server"):
        rabbitmq_module.require_scripts()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="rabbitmq-server is not installed"):
        rabbitmq_module.require_scripts()
