"""hub.transports.amqp.params: URLs, TLS options, redaction and the reconnect backoff."""

from __future__ import annotations

from pathlib import Path

import pika
import pytest
from twisted.internet import reactor

from hub.errors import ConfigError
from hub.transports.amqp.params import (
    Backoff,
    TlsFiles,
    endpoint,
    parameters,
    redacted,
    tls_options,
)
from tests.integration.servers.certs import make_tls_files


def test_an_amqp_url_gives_host_port_vhost_credentials_and_heartbeat() -> None:
    """pika reads the URL: %2F is the vhost '/', query options apply, we name the client."""
    params = parameters("amqp://user:secret@rabbit.example.org:5673/%2F?heartbeat=30")
    assert (params.host, params.port, params.virtual_host) == ("rabbit.example.org", 5673, "/")
    assert (params.credentials.username, params.heartbeat) == ("user", 30)
    assert params.client_properties["connection_name"] == "consumer-hub"
    assert not params.ssl_options


def test_amqps_defaults_to_5671_and_a_client_certificate_means_sasl_external() -> None:
    """amqps:// is TLS on 5671; with certfile + keyfile the login is EXTERNAL, not the password."""
    plain = parameters("amqps://u:p@rabbit.example.org/%2F")
    assert plain.port == 5671 and plain.ssl_options
    assert isinstance(plain.credentials, pika.PlainCredentials)
    cert = parameters("amqps://rabbit.example.org/%2F", TlsFiles("ca", "c.pem", "c.key"))
    assert isinstance(cert.credentials, pika.credentials.ExternalCredentials)


@pytest.mark.parametrize("url", ["http://x/", "rabbit.example.org", "amqp://h:notaport/%2F"])
def test_a_url_pika_cannot_use_is_a_config_error_without_the_password(url: str) -> None:
    """A wrong scheme or an unreadable URL is refused as configuration."""
    with pytest.raises(ConfigError, match=r"amqp\.url"):
        parameters(url)
    with pytest.raises(ConfigError) as info:
        parameters("http://user:hunter2@x/")
    assert "hunter2" not in str(info.value)


def test_redacted_hides_only_the_password() -> None:
    """Logs show user, host, port and vhost, never the password."""
    assert redacted("amqps://user:s3:cr@t@host:5671/%2F") == "amqps://user:***@host:5671/%2F"
    assert redacted("amqp://host/%2F") == "amqp://host/%2F"


def test_backoff_doubles_up_to_its_cap() -> None:
    """Attempt n waits initial * factor**(n-1), never more than max."""
    backoff = Backoff(initial_s=0.5, max_s=3.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_tls_options_load_a_ca_bundle_and_a_client_certificate(tmp_path: Path) -> None:
    """A CA bundle of several certificates and a key + cert pair build client TLS options."""
    files = make_tls_files(tmp_path / "tls", client_user="hub")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((files / "other-ca.pem").read_bytes() + (files / "ca.pem").read_bytes())
    tls = TlsFiles(str(bundle), str(files / "client.pem"), str(files / "client.key"))
    assert tls_options("localhost", tls) is not None
    params = parameters("amqps://localhost/%2F", tls)
    assert endpoint(reactor, params, tls, 5.0) is not None


def test_a_ca_file_without_a_certificate_is_a_config_error(tmp_path: Path) -> None:
    """tls.ca_cert must hold at least one PEM certificate."""
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="no PEM certificate"):
        tls_options("localhost", TlsFiles(ca_cert=str(empty)))
