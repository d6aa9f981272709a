"""Hub subprocesses on the private RabbitMQ node: their config, readiness, and what the tests
publish and check.

Runs in the pytest process (main thread). Readiness is a hub's /ready (200 once its queues are
declared and consumed), never a sleep.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pika

from hub.transports.amqp.wire import encode
from tests.integration.harness import REPO, HubProcess, read_records, wait_until
from tests.integration.servers.rabbitmq import RabbitMQ


def amqp_hub(
    tmp_path: Path, rabbitmq: RabbitMQ, prefix: str, consumers: dict[str, Any], name: str = "hub"
) -> HubProcess:
    """A hub reading only AMQP (no endpoints), its status endpoint on an ephemeral port."""
    config = {
        "amqp": {"url": rabbitmq.url, "queue_prefix": prefix},
        "status": {"host": "127.0.0.1", "port": 0},
        "shutdown_timeout_s": 1,
        "consumers": {n: dict(c, source="amqp") for n, c in consumers.items()},
        "retry": {"initial_delay_s": 0.01, "max_delay_s": 0.05},
        "state_dir": str(tmp_path / f"state-{name}"),
    }
    return HubProcess(tmp_path, config, name)


def started(hub: HubProcess, hubs: list[HubProcess]) -> HubProcess:
    """Start ``hub`` and wait until its queues are declared and consumed (/ready is 200)."""
    hubs.append(hub.start())
    wait_until(lambda: hub.get("/ready")[0] == 200, 30, "the hub consuming its AMQP queues")
    return hub


def publish(rabbitmq: RabbitMQ, topic: str, count: int) -> list[str]:
    """Publish ``count`` messages the way fedora-messaging does, confirmed; their ids."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    channel = connection.channel()
    channel.confirm_delivery()
    ids = []
    for n in range(count):
        message = encode(topic, {"n": n})
        channel.basic_publish("amq.topic", message.routing_key, message.body, message.properties)
        ids.append(message.properties.message_id)
    connection.close()
    return ids


def queue(rabbitmq: RabbitMQ, name: str) -> dict[str, Any]:
    return rabbitmq.queues().get(name, {})


def recorded_ids(path: Path) -> list[str]:
    return [r["msg_id"] for r in read_records(path)]


def deadletters(hub: HubProcess, *args: str) -> str:
    """``consumer-hub deadletters ...`` with the hub's config; its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "hub", "--config", str(hub.config_path), "deadletters", *args],
        env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def echo_into_queue(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str], queue: str
) -> HubProcess:
    """A durable ``queue`` bound to ``<root>.ping.echo``, then a hub whose `tests.plugins.Echo`
    consumer answered one ``<root>.ping`` there (publish_to: amqp); the hub, still running."""
    prefix, root = names
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    connection.channel().queue_declare(queue, durable=True)
    connection.channel().queue_bind(queue, "amq.topic", routing_key=f"{root}.ping.echo")
    connection.close()
    echo = {"echo": {"class": "tests.plugins:Echo", "topics": [f"{root}.ping"]}}
    hub = started(amqp_hub(tmp_path, rabbitmq, prefix, echo), hubs)
    publish(rabbitmq, f"{root}.ping", 1)
    wait_until(lambda: hub.status()["hub"].get("published", 0) >= 1, 20, "the echo confirmed")
    return hub
