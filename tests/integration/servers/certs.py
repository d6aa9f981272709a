"""Throw-away TLS material for test servers: a CA, a server and a client certificate.

Runs in the pytest process (main thread), while a fixture prepares a server's directory. EC
P-256 keys (fast to make); the server certificate names ``localhost`` and ``127.0.0.1``; the
client certificate's common name is the user it logs in as with SASL EXTERNAL. A second,
unrelated CA (``other-ca.pem``) is there for tests that must see verification fail.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: Key,
    issuer: tuple[x509.Name, Key],
    extensions: Sequence[x509.ExtensionType],
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer[0])
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(issuer[1], hashes.SHA256())


def _write(directory: Path, stem: str, cert: x509.Certificate, key: Key | None) -> None:
    (directory / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        (directory / f"{stem}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def _ca(common_name: str) -> tuple[x509.Certificate, Key]:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ext = x509.BasicConstraints(ca=True, path_length=None)
    return _certificate(common_name, key, (_name(common_name), key), [ca_ext]), key


def make_tls_files(directory: Path, client_user: str) -> Path:
    """Write ca, server, client (CN ``client_user``) and other-ca files; return ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _ca("consumer-hub test CA")
    issuer = (ca_cert.subject, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server_ext = [x509.SubjectAlternativeName(names),
                  x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])]  # fmt: skip
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_ext = [x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])]
    _write(directory, "ca", ca_cert, None)
    _write(directory, "server", _certificate("localhost", server_key, issuer, server_ext),
           server_key)  # fmt: skip
    _write(directory, "client", _certificate(client_user, client_key, issuer, client_ext),
           client_key)  # fmt: skip
    _write(directory, "other-ca", _ca("some other CA")[0], None)
    return directory
