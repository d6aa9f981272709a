"""hub.transports.amqp over TLS (amqps://) against the node's TLS listener."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hub.transports.amqp.channel import QueueSpec
from hub.transports.amqp.connection import AmqpConnection
from hub.transports.amqp.params import Backoff, TlsFiles
from hub.transports.amqp.wire import encode
from tests.integration.servers.rabbitmq import RabbitMQ
from tests.integration.transports.amqp.support import Deliveries, ReactorThread, publish, wait_for

pytestmark = pytest.mark.integration
Connect = Callable[..., AmqpConnection]


def test_amqps_verifies_the_server_against_ca_cert_and_consumes(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """amqps:// with tls.ca_cert: the handshake verifies localhost, then messages flow."""
    got = Deliveries()
    tls = TlsFiles(ca_cert=str(rabbitmq.tls_dir / "ca.pem"))
    conn = connections(rabbitmq.tls_url, [QueueSpec(f"{prefix}.q", (f"{prefix}.#",))], got,
                       tls=tls)  # fmt: skip
    wait_for(lambda: reactor_thread.call(lambda: conn.connected), "connected over TLS")
    publish(rabbitmq.url, encode(f"{prefix}.m", {"tls": True}))
    (delivery,) = got.take()
    assert reactor_thread.call(conn.ack, delivery.tag, delivery.generation)


def test_a_client_certificate_logs_in_with_sasl_external(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """certfile + keyfile and no password in the URL: the broker logs us in as the cert's CN."""
    tls = TlsFiles(ca_cert=str(rabbitmq.tls_dir / "ca.pem"),
                   certfile=str(rabbitmq.tls_dir / "client.pem"),
                   keyfile=str(rabbitmq.tls_dir / "client.key"))  # fmt: skip
    url = f"amqps://localhost:{rabbitmq.tls_port}/%2F"
    conn = connections(url, [QueueSpec(f"{prefix}.q", (f"{prefix}.#",))], Deliveries(), tls=tls)
    wait_for(lambda: reactor_thread.call(lambda: conn.connected), "connected with a certificate")
    listed = rabbitmq.ctl("list_connections", "-q", "user", "auth_mechanism", "ssl")
    assert any(line.split() == ["guest", "EXTERNAL", "true"] for line in listed.splitlines())


def test_a_server_the_ca_did_not_sign_is_refused_and_retried(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str
) -> None:
    """Another CA: verification fails, nothing connects, attempts back off and say why."""
    tls = TlsFiles(ca_cert=str(rabbitmq.tls_dir / "other-ca.pem"))
    conn = connections(rabbitmq.tls_url, [QueueSpec(f"{prefix}.q", (f"{prefix}.#",))],
                       Deliveries(), tls=tls, backoff=Backoff(0.05, 0.2))  # fmt: skip
    wait_for(lambda: reactor_thread.call(lambda: conn.attempts >= 2), "2 failed attempts")
    assert not reactor_thread.call(lambda: conn.connected) and conn.connections == 0
    assert "certificate" in (conn.last_error or "").lower()
