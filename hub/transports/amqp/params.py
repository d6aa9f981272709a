"""Where and how to connect: the AMQP URL and TLS files -> pika parameters, a Twisted endpoint.

Runs on the main thread (`parameters`, at config check and start-up: it validates the URL) and
on the reactor thread (`endpoint`, before each connection attempt; it reads the TLS files, so a
renewed certificate is picked up on the next reconnect). Also the reconnect `Backoff`.

The URL is pika's (``amqp://user:pass@host:port/vhost?heartbeat=30``, ``%2F`` for the vhost
``/``; ``amqps://`` for TLS, port 5671 by default). Twisted, not pika, opens the socket, so TLS
is set up here as fedora-messaging does it: the server is checked against ``ca_cert`` (else the
system's trust store) and its host name, TLS 1.2 at least, and a client certificate
(``certfile`` + ``keyfile``) authenticates with SASL EXTERNAL instead of the URL's password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pika
from twisted.internet import endpoints, ssl

import hub
from hub.errors import ConfigError

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class TlsFiles:
    """``amqp.tls``: the CA bundle to trust, and an optional client certificate and key."""

    ca_cert: str | None = None
    certfile: str | None = None
    keyfile: str | None = None

    @property
    def client_auth(self) -> bool:
        return bool(self.certfile and self.keyfile)


@dataclass(frozen=True)
class Backoff:
    """Delay before reconnect attempt n (1, 2, ...): ``initial_s * factor**(n-1)``, capped."""

    initial_s: float = 1.0
    max_s: float = 60.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_s, self.initial_s * self.factor ** max(0, attempt - 1)))


DEFAULT_BACKOFF = Backoff()


def parameters(url: str, tls: TlsFiles | None = None, name: str = "consumer-hub") -> Any:
    """pika parameters for ``url``; raise `ConfigError` if pika cannot read it."""
    if not url.startswith(("amqp://", "amqps://")):
        raise ConfigError(f"amqp.url: {redacted(url)!r} is not an amqp:// or amqps:// URL")
    try:
        params = pika.URLParameters(url)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"amqp.url: {redacted(url)!r}: {exc}") from None
    if url.startswith("amqps://") and tls is not None and tls.client_auth:
        params.credentials = pika.credentials.ExternalCredentials()
    params.client_properties = {
        "connection_name": name,
        "product": "consumer-hub",
        "version": hub.__version__,
        "information": "https://github.com/fedora-infra/fedora-messaging wire format",
    }
    return params


def endpoint(reactor: Any, params: Any, tls: TlsFiles | None, timeout_s: float) -> Any:
    """The Twisted client endpoint for ``params``: plain TCP, or TLS when it came from amqps://."""
    plain: Any = endpoints.HostnameEndpoint(reactor, params.host, params.port, timeout=timeout_s)
    if not params.ssl_options:
        return plain
    return endpoints.wrapClientTLS(tls_options(params.host, tls or TlsFiles()), plain)


def tls_options(host: str, tls: TlsFiles) -> Any:
    """Client TLS options: verify ``host`` against ``ca_cert`` (or the system), TLS >= 1.2."""
    trust: Any = ssl.platformTrust()
    if tls.ca_cert:
        certs = [ssl.Certificate.loadPEM(block) for block in _pem_certs(tls.ca_cert)]
        trust = ssl.trustRootFromCertificates(certs)
    client = None
    if tls.certfile and tls.keyfile:
        pem = Path(tls.keyfile).read_bytes() + b"\n" + Path(tls.certfile).read_bytes()
        client = ssl.PrivateCertificate.loadPEM(pem)
    return ssl.optionsForClientTLS(
        host,
        trustRoot=trust,
        clientCertificate=client,
        extraCertificateOptions={"raiseMinimumTo": ssl.TLSVersion.TLSv1_2},
    )


def _pem_certs(path: str) -> list[bytes]:
    found = _PEM_CERT.findall(Path(path).read_bytes())
    if not found:
        raise ConfigError(f"amqp.tls.ca_cert: {path} holds no PEM certificate")
    return found


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``: what error messages and logs show."""
    parts = urlsplit(url)
    if "@" not in parts.netloc or ":" not in parts.netloc.rsplit("@", 1)[0]:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}"))
