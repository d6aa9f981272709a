"""fedora-messaging callbacks, unchanged, in a real hub: from ZeroMQ (real fedmsg samples: each
gets the schema class of its topic from the installed bodhi-messages) and from a real RabbitMQ
(the class its header names); Nack, Drop and HaltConsumer have their documented outcomes.

Runs in the pytest process; the hub is a subprocess; the broker is the private ``rabbitmq``
node. Readiness: the ZeroMQ subscription handshake and /ready, never a sleep.
"""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pika
import pytest
from fedora_messaging import message as fm

from tests.integration.amqp_hubs import amqp_hub, deadletters, queue, started
from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    hub_config,
    sample_envelopes,
    wait_until,
)
from tests.integration.servers.rabbitmq import RabbitMQ

pytestmark = pytest.mark.integration
BODHI = "org.fedoraproject.prod.bodhi."


def records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_callback_fed_from_zeromq_gets_each_real_message_as_its_schema_class(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """Every real bodhi sample with a schema today reaches the callback as its bodhi-messages
    class (summary, usernames, packages, agent) or is dropped for failing it, counted; one
    whose topic no schema claims gets the base Message."""
    out = tmp_path / "cb.jsonl"
    consumer = {"class": "tests.peers.fm_callbacks:Recorder", "topics": [f"{BODHI}*"],
                "config": {"path": str(out)}}  # fmt: skip
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"cb": consumer}))
    hubs.append(hub.start())
    publisher.wait_subscribed([BODHI])
    sent = [publisher.send(e) for e in sample_envelopes() if e["topic"].startswith(BODHI)]

    def settled() -> dict[str, Any] | None:
        status = hub.status()["consumers"]["cb"]
        done = status["done"] + status["dropped"].get("consumer", 0)
        return status if done == len(sent) else None

    status = wait_until(settled, 30, "every bodhi sample consumed or dropped")
    got = records(out)
    assert len(got) == status["done"] > 0 and status["schema_invalid"] == len(sent) - len(got)
    assert status["schema_invalid"] > 0 and status["kind"] == "fedora-messaging"
    typed = [r for r in got if any(r["topic"].endswith(f".{t}") for t in schema_topics())]
    assert all(r["class"] != "Message" and r["summary"] for r in typed) and typed
    untyped = [r for r in got if r not in typed]  # e.g. bodhi.mashtask.*: no schema today
    assert all(r["class"] == "Message" and r["summary"] == r["topic"] for r in untyped), untyped
    kalev = next(r for r in got if r["usernames"] == ["kalev"])
    assert (
        kalev["summary"] == "kalev commented on update xdg-desktop-portal-1.4.2-1.fc30 (karma: 0)"
    )
    assert (kalev["class"], kalev["packages"], kalev["agent_name"]) == (
        "UpdateCommentV1", ["xdg-desktop-portal"], "kalev")  # fmt: skip
    assert hub.stop() == 0


def schema_topics() -> set[str]:
    """The topics of every installed fedora-messaging schema class."""
    classes = (ep.load() for ep in entry_points(group="fedora.messages"))
    return {topic for cls in classes if isinstance(topic := getattr(cls, "topic", None), str)}


def publish_fm(rabbitmq: RabbitMQ, *messages: Any) -> None:
    """Publish fedora-messaging Message objects as the library writes them, confirmed."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    channel = connection.channel()
    channel.confirm_delivery()
    for m in messages:
        channel.basic_publish("amq.topic", m._encoded_routing_key, m._encoded_body, m._properties)
    connection.close()


def test_callbacks_fed_from_rabbitmq_get_their_class_and_their_exceptions_outcomes(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str]
) -> None:
    """Over AMQP the class is the one the schema header names; Nack is retried then
    dead-lettered on the broker, Drop dropped, HaltConsumer(requeue=False) acks its message
    and stops the consumer, leaving what came after it in the queue."""
    prefix, root = names
    out = tmp_path / "t.jsonl"
    troubled = {"class": "tests.peers.fm_callbacks:troubled", "topics": [f"{root}.*"],
                "config": {"path": str(out)}}  # fmt: skip
    hub = amqp_hub(tmp_path, rabbitmq, prefix, {"t": troubled})
    hub.config["retry"] = {"max_attempts": 2, "initial_delay_s": 0.01, "max_delay_s": 0.01}
    started(hub, hubs)
    cls = fm.get_class("bodhi.compose.complete.v1")
    body = {"agent": "releng", "ctype": "rpm", "repo": "f40-updates", "success": True}
    first = [cls(topic=f"{root}.{kind}", body=body) for kind in ("ok", "nack", "drop", "ok2")]
    publish_fm(rabbitmq, *first)
    wait_until(lambda: len(records(out)) == 2, 30, "the two ok messages")
    assert [r["id"] for r in records(out)] == [first[0].id, first[3].id]
    wait_until(lambda: queue(rabbitmq, f"{prefix}.t.dead-letters").get("messages_ready") == 1,
               30, "the nacked one dead-lettered")  # fmt: skip
    after = [cls(topic=f"{root}.halt", body=body), cls(topic=f"{root}.late", body=body)]
    publish_fm(rabbitmq, *after)
    wait_until(lambda: hub.status()["consumers"]["t"]["state"] == "halted", 30, "halted")
    state = wait_until(lambda: (q := queue(rabbitmq, f"{prefix}.t"))
                       and q["messages_unacknowledged"] == 0 and q, 30, "settled")  # fmt: skip
    assert state["messages_ready"] == 1, "the halting message was acked, the late one kept"
    status = hub.status()["consumers"]["t"]
    assert status["dropped"].get("consumer") == 1 and status["failed"] == 1
    assert "Nack" in deadletters(hub, "list", "--consumer", "t")
    assert hub.stop() == 0
