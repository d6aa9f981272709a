"""A throwaway fedmsg PKI for tests: a CA, certificates it signs, a CRL; and the real fedmsg
library's ``fedmsg.crypto`` made to work on the installed pyOpenSSL.

Runs in the pytest process. Everything is made with the ``cryptography`` package in a
directory the test gives (fedmsg's layout: ``<ssldir>/<certname>.crt`` and ``.key``,
``ca.crt``, ``crl.pem``). fedmsg 1.1.7's x509 backend imports ``OpenSSL.crypto.load_crl``,
which pyOpenSSL removed in 24.3 (``X509Store.add_crl`` takes cryptography's CRL since): without
it fedmsg silently disables signing and validation (its ``sign`` returns None, its ``validate``
warns). `real_fedmsg_crypto` puts that one loader back, as cryptography's, and re-imports the
backend, so the tests run fedmsg's own ``sign`` and ``validate`` unchanged.
"""

from __future__ import annotations

import datetime
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

DAY = datetime.timedelta(days=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TestCA:
    """A CA in ``ssldir`` that issues and revokes certificates."""

    __test__ = False  # not a pytest class

    def __init__(self, ssldir: Path, name: str = "Test fedmsg CA") -> None:
        self.ssldir = ssldir
        ssldir.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.UTC)
        self.key = _key()
        self.cert = (
            x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + 30 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip
        self.ca_path = ssldir / "ca.crt"
        self.ca_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.crl_path = ssldir / "crl.pem"
        self.revoked: list[int] = []
        self.write_crl()

    def issue(self, certname: str, common_name: str | None = None, days: int = 30) -> Path:
        """``<certname>.crt`` and ``.key`` for ``common_name`` (default ``certname``)."""
        now = datetime.datetime.now(datetime.UTC)
        key = _key()
        cert = (
            x509.CertificateBuilder().subject_name(_name(common_name or certname))
            .issuer_name(self.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + days * DAY)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip
        path = self.ssldir / f"{certname}.crt"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (self.ssldir / f"{certname}.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()))  # fmt: skip
        (self.ssldir / f"{certname}.key").chmod(0o600)
        return path

    def revoke(self, certname: str) -> None:
        """Put ``certname``'s certificate on the CRL (rewritten)."""
        cert = x509.load_pem_x509_certificate((self.ssldir / f"{certname}.crt").read_bytes())
        self.revoked.append(cert.serial_number)
        self.write_crl()

    def write_crl(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
            .last_update(now - DAY).next_update(now + 7 * DAY)
        )  # fmt: skip
        for serial in self.revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
            )
        crl = builder.sign(self.key, hashes.SHA256())
        self.crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))

    def fedmsg_config(self, **extra: Any) -> dict[str, Any]:
        """The fedmsg.crypto keyword arguments for this CA."""
        return {"ssldir": str(self.ssldir), "ca_cert_location": str(self.ca_path),
                "crl_location": str(self.crl_path), "crypto_backend": "x509",
                "crypto_validate_backends": ["x509"], **extra}  # fmt: skip


def real_fedmsg_crypto() -> ModuleType:
    """``fedmsg.crypto`` with its cryptography backend on (see the module docstring)."""
    import OpenSSL.crypto

    if not hasattr(OpenSSL.crypto, "load_crl"):

        def load_crl(filetype: int, data: str | bytes) -> x509.CertificateRevocationList:
            return x509.load_pem_x509_crl(data.encode() if isinstance(data, str) else data)

        OpenSSL.crypto.load_crl = load_crl  # type: ignore[attr-defined]
    import fedmsg.crypto
    import fedmsg.crypto.x509
    import fedmsg.crypto.x509_ng

    if not fedmsg.crypto.x509_ng._cryptography:
        importlib.reload(fedmsg.crypto.x509_ng)
        importlib.reload(fedmsg.crypto.x509)
    assert fedmsg.crypto.x509_ng._cryptography, "fedmsg's cryptography backend did not load"
    return fedmsg.crypto
