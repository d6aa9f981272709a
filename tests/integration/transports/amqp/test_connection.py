"""hub.transports.amqp.connection against a real RabbitMQ: consume, ack, reconnect, publish."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
import pika
import pytest
from pika.exceptions import UnroutableError

from hub.transports.amqp.channel import QueueSpec
from hub.transports.amqp.connection import AmqpConnection
from hub.transports.amqp.errors import NotConnected, PublishRejected
from hub.transports.amqp.params import Backoff
from hub.transports.amqp.wire import decode, encode
from tests.integration.servers.rabbitmq import RabbitMQ, free_port
from tests.integration.transports.amqp.support import (
    Deliveries,
    Proxy,
    ReactorThread,
    publish,
    wait_for,
)

pytestmark = pytest.mark.integration
FAST = Backoff(initial_s=0.05, max_s=0.5)
Connect = Callable[..., AmqpConnection]


def up(reactor: ReactorThread, conn: AmqpConnection, generation: int = 1) -> None:
    """Wait until ``conn`` is consuming on channel ``generation``."""
    wait_for(
        lambda: reactor.call(lambda: conn.connected and conn.generation >= generation),
        f"consuming on channel generation {generation}",
    )


def settled(rabbitmq: RabbitMQ, queue: str, ready: int, unacked: int) -> dict[str, Any]:
    """Wait until the broker shows ``queue`` with ``ready`` and ``unacked`` messages."""

    def matches() -> dict[str, Any] | None:
        row = rabbitmq.queues().get(queue)
        state = row and (row["messages_ready"], row["messages_unacknowledged"])
        return row if state == (ready, unacked) else None

    return wait_for(matches, f"{queue}: {ready} ready, {unacked} unacked")  # type: ignore[no-any-return]


def test_declares_binds_consumes_and_acks_a_round_trip(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """A durable queue bound by key gets the message; acked after it is done, it is gone."""
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.*.#",))
    conn = connections(rabbitmq.url, [spec], got)
    up(reactor_thread, conn)
    publish(rabbitmq.url, encode(f"{prefix}.x.y", {"n": 1}))
    with pytest.raises(UnroutableError):  # the key needs a word after the prefix
        publish(rabbitmq.url, encode(prefix, {"n": 2}))
    (delivery,) = got.take()
    message = decode(delivery.routing_key, delivery.properties, delivery.body, 1 << 20, 0.0)
    assert (message.topic, message.body, delivery.generation) == (f"{prefix}.x.y", {"n": 1}, 1)
    settled(rabbitmq, spec.name, ready=0, unacked=1)
    assert reactor_thread.call(conn.ack, delivery.tag, delivery.generation) is True
    row = settled(rabbitmq, spec.name, ready=0, unacked=0)
    assert row["type"] == "classic" and got.pending() == 0


def test_prefetch_bounds_what_is_delivered_before_an_ack(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """prefetch=2: two of five arrive, three stay ready on the broker until an ack frees one."""
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",), prefetch=2)
    conn = connections(rabbitmq.url, [spec], got)
    up(reactor_thread, conn)
    publish(rabbitmq.url, *(encode(f"{prefix}.m", {"n": n}) for n in range(5)))
    first = got.take(2)
    settled(rabbitmq, spec.name, ready=3, unacked=2)
    assert got.pending() == 0
    reactor_thread.call(conn.ack, first[0].tag, first[0].generation)
    (third,) = got.take()
    assert decode(third.routing_key, third.properties, third.body, 1 << 20, 0).body == {"n": 2}
    settled(rabbitmq, spec.name, ready=2, unacked=2)


def test_lost_connection_redelivers_unacked_and_refuses_old_generation_acks(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """Broker closes the connection: reconnect, redeclare, redeliver; an old tag is refused."""
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(rabbitmq.url, [spec], got, backoff=FAST)
    up(reactor_thread, conn)
    publish(rabbitmq.url, *(encode(f"{prefix}.m", {"n": n}) for n in range(3)))
    old = got.take(3)
    reactor_thread.call(conn.ack, old[0].tag, old[0].generation)
    settled(rabbitmq, spec.name, ready=0, unacked=2)
    rabbitmq.ctl("close_all_connections", "test: forced connection loss")
    up(reactor_thread, conn, generation=2)
    again = got.take(2)
    assert {d.generation for d in again} == {conn.generation} and conn.generation > 1
    assert all(d.redelivered for d in again)
    assert [d.body for d in again] == [d.body for d in old[1:]]
    assert reactor_thread.call(conn.ack, old[1].tag, old[1].generation) is False
    assert conn.refused == 1 and conn.connections == 2
    for delivery in again:
        assert reactor_thread.call(conn.ack, delivery.tag, delivery.generation) is True
    settled(rabbitmq, spec.name, ready=0, unacked=0)


def test_a_cut_network_is_noticed_and_consuming_resumes(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """A TCP connection aborted without an AMQP close: reconnect and redelivery as well."""
    proxy = Proxy(rabbitmq.amqp_port)
    port = reactor_thread.call(
        lambda: reactor_thread.reactor.listenTCP(0, proxy, interface="127.0.0.1")
    )
    url = f"amqp://guest:guest@127.0.0.1:{port.getHost().port}/%2F"
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(url, [spec], got, backoff=FAST)
    up(reactor_thread, conn)
    publish(rabbitmq.url, encode(f"{prefix}.m", {"n": 1}))
    (first,) = got.take()
    assert reactor_thread.call(proxy.cut) == 1
    up(reactor_thread, conn, generation=2)
    (again,) = got.take()
    assert (again.body, again.redelivered) == (first.body, True)
    assert again.generation == conn.generation > first.generation
    assert reactor_thread.call(conn.ack, again.tag, again.generation) is True
    reactor_thread.call(port.stopListening)


def test_first_connection_retries_with_backoff_until_the_broker_answers(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """Nothing listening yet: attempts fail and back off; once a listener appears it connects."""
    port = free_port()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(f"amqp://guest:guest@127.0.0.1:{port}/%2F", [spec], Deliveries(),
                       backoff=Backoff(initial_s=0.05, max_s=0.2))  # fmt: skip
    wait_for(lambda: reactor_thread.call(lambda: conn.attempts >= 3), "3 failed attempts")
    assert not reactor_thread.call(lambda: conn.connected) and conn.last_error
    proxy = Proxy(rabbitmq.amqp_port)
    listening = reactor_thread.call(
        lambda: reactor_thread.reactor.listenTCP(port, proxy, interface="127.0.0.1")
    )
    up(reactor_thread, conn)
    assert conn.attempts == 0 and conn.last_error is None
    reactor_thread.call(listening.stopListening)


def test_a_deleted_queue_is_redeclared_and_consuming_resumes(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """The broker cancels the consumer of a deleted queue; the connection redeclares it."""
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(rabbitmq.url, [spec], got, backoff=FAST)
    up(reactor_thread, conn)
    rabbitmq.ctl("delete_queue", spec.name)
    up(reactor_thread, conn, generation=2)
    publish(rabbitmq.url, encode(f"{prefix}.m", {"n": 1}))
    (delivery,) = got.take()
    assert delivery.generation == conn.generation > 1


def test_publisher_confirms_fire_and_the_message_arrives(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """publish() fires once the broker confirms; the message is then in the bound queue."""
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(rabbitmq.url, [spec], got)
    up(reactor_thread, conn)
    sent = encode(f"{prefix}.out", {"hello": "world"})
    assert reactor_thread.call(conn.publish, sent) is None
    (delivery,) = got.take()
    assert delivery.properties.message_id == sent.properties.message_id
    assert delivery.properties.delivery_mode == 2 and delivery.body == sent.body


def test_a_forbidden_publish_is_rejected_and_costs_no_reconnect(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """No write permission on the exchange: PublishRejected; consuming goes on, same channel."""
    user = f"{prefix}.limited"
    rabbitmq.ctl("add_user", user, "secret")
    rabbitmq.ctl("set_permissions", "-p", "/", user, ".*", "^hubtest\\..*", ".*")
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(f"amqp://{user}:secret@127.0.0.1:{rabbitmq.amqp_port}/%2F", [spec], got)
    up(reactor_thread, conn)
    with pytest.raises(PublishRejected, match="forbidden"):
        reactor_thread.call(conn.publish, encode(f"{prefix}.out", {}))
    publish(rabbitmq.url, encode(f"{prefix}.in", {}))
    (delivery,) = got.take()
    assert reactor_thread.call(conn.ack, delivery.tag, delivery.generation) is True
    assert conn.connections == 1 and conn.generation == 1
    wait_for(lambda: reactor_thread.call(lambda: conn.can_publish), "a new publishing channel")
    with pytest.raises(PublishRejected):
        reactor_thread.call(conn.publish, encode(f"{prefix}.out", {}))


def test_publish_without_a_connection_fails_at_once(
    reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """No connection: publish() errbacks NotConnected instead of waiting."""
    conn = connections(f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F", [], Deliveries())
    with pytest.raises(NotConnected):
        reactor_thread.call(conn.publish, encode(f"{prefix}.out", {}))


def test_shutdown_finishes_in_hand_returns_the_rest_and_stays_down(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """stop_consuming, ack the finished one, nack the other: it is ready again; no reconnect."""
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(rabbitmq.url, [spec], got, backoff=FAST)
    up(reactor_thread, conn)
    publish(rabbitmq.url, *(encode(f"{prefix}.m", {"n": n}) for n in range(3)))
    done, rest, unseen = got.take(3)
    reactor_thread.call(conn.stop_consuming)
    assert settled(rabbitmq, spec.name, ready=0, unacked=3)["consumers"] == 0
    assert reactor_thread.call(conn.ack, done.tag, done.generation) is True
    assert reactor_thread.call(conn.nack, rest.tag, rest.generation, True) is True
    reactor_thread.call(conn.stop)
    settled(rabbitmq, spec.name, ready=2, unacked=0)
    assert not reactor_thread.call(lambda: conn.connected) and conn.connections == 1
    assert unseen.generation == 1


def test_quorum_queue_with_dead_letters_keeps_rejected_messages_on_the_broker(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """A quorum queue: a nack without requeue lands in the consumer's dead-letter queue."""
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",), queue_type="quorum",
                     single_active_consumer=True, dead_letter_queue=f"{prefix}.dead")  # fmt: skip
    conn = connections(rabbitmq.url, [spec], got)
    up(reactor_thread, conn)
    publish(rabbitmq.url, encode(f"{prefix}.m", {"poison": True}))
    (delivery,) = got.take()
    assert reactor_thread.call(conn.nack, delivery.tag, delivery.generation, False) is True
    settled(rabbitmq, spec.name, ready=0, unacked=0)
    assert settled(rabbitmq, f"{prefix}.dead", ready=1, unacked=0)["type"] == "quorum"
    assert rabbitmq.queues()[spec.name]["type"] == "quorum"


def test_a_settled_or_unknown_tag_is_refused_without_closing_the_channel(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """Acking twice, or a tag never delivered, is refused here: the broker never sees it."""
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(rabbitmq.url, [spec], got)
    up(reactor_thread, conn)
    publish(rabbitmq.url, encode(f"{prefix}.m", {}), encode(f"{prefix}.m", {}))
    first, second = got.take(2)
    assert reactor_thread.call(conn.ack, first.tag, 1) is True
    assert reactor_thread.call(conn.ack, first.tag, 1) is False
    assert reactor_thread.call(conn.nack, 999, 1, True) is False
    assert reactor_thread.call(conn.ack, second.tag, 1) is True
    settled(rabbitmq, spec.name, ready=0, unacked=0)
    assert conn.refused == 2 and conn.connections == 1 and conn.generation == 1


def test_a_failing_delivery_handler_stops_the_input_for_good(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """A raise in on_delivery is a defect: on_failure hears of it and nothing reconnects."""
    failures: list[Exception] = []

    def broken(delivery: Any) -> None:
        raise RuntimeError("defect")

    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(rabbitmq.url, [spec], broken, on_failure=failures.append, backoff=FAST)
    up(reactor_thread, conn)
    publish(rabbitmq.url, encode(f"{prefix}.m", {}))
    wait_for(lambda: failures, "on_failure")
    settled(rabbitmq, spec.name, ready=1, unacked=0)  # closed: the broker took it back
    assert not reactor_thread.call(lambda: conn.connected) and conn.connections == 1


def test_heartbeats_keep_a_connection_up_while_a_message_is_held(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """heartbeat=1 and a 4 s consume on another thread: the same channel still takes the ack."""
    got = Deliveries()
    spec = QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(f"{rabbitmq.url}?heartbeat=1", [spec], got, backoff=FAST)
    up(reactor_thread, conn)
    publish(rabbitmq.url, encode(f"{prefix}.m", {}))
    (delivery,) = got.take()
    timeouts = rabbitmq.ctl("list_connections", "-q", "name", "timeout").split()
    assert "1" in timeouts  # the broker agreed to 1 s heartbeats: dead after ~2 s of silence
    threading.Event().wait(4.0)  # the long consume() itself, not a readiness wait
    assert reactor_thread.call(conn.ack, delivery.tag, delivery.generation) is True
    assert conn.connections == 1
    settled(rabbitmq, spec.name, ready=0, unacked=0)


def test_a_steady_stream_read_by_the_hub_keeps_pikas_heartbeat_checker_content(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """heartbeat=1: for 13 s the broker sends only deliveries (no heartbeats: it has data to
    send), every one read by the hub's frame reader, not pika; pika's checker (every 6 s) still
    sees the connection alive: one connection, every delivery in order, all read by the hub."""
    got, spec = Deliveries(), QueueSpec(f"{prefix}.q", (f"{prefix}.#",))
    conn = connections(f"{rabbitmq.url}?heartbeat=1", [spec], got, backoff=FAST)
    up(reactor_thread, conn)
    stop, sent = threading.Event(), []

    def publisher() -> None:
        connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
        channel = connection.channel()
        while not stop.wait(0.05):
            message = encode(f"{prefix}.m", {"n": len(sent)})
            channel.basic_publish(
                "amq.topic", message.routing_key, message.body, message.properties
            )
            sent.append(len(sent))
        connection.close()

    thread = threading.Thread(target=publisher, name="test-publisher")
    thread.start()
    deadline, seen = time.monotonic() + 13.0, []
    while time.monotonic() < deadline:
        (delivery,) = got.take()
        seen.append(orjson.loads(delivery.body)["n"])
        assert reactor_thread.call(conn.ack, delivery.tag, delivery.generation) is True
    stop.set()
    thread.join(10)
    seen += [orjson.loads(d.body)["n"] for d in got.take(len(sent) - len(seen))]
    assert seen == sent and len(sent) > 200
    assert conn.connections == 1 and reactor_thread.call(lambda: conn.read_by_hub) == len(sent)
