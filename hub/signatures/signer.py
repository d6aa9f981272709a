"""Signing what ``hub.publish()`` sends, as ``fedmsg.crypto.x509.sign`` does, so that fedmsg
consumers elsewhere (``validate_signatures: True``) accept it.

Built on the reactor at start-up (reading ``<ssldir>/<certname>.key`` and ``.crt``: a
`ConfigError` when they cannot be read); ``sign`` runs on the publishing thread (a consumer's
worker, a producer's thread): the key is only read from there, never changed. The envelope gets
``crypto: "x509"``, then an RSA PKCS#1 v1.5 SHA-1 signature of its canonical JSON
(`hub.signatures.x509.canonical`) and the certificate, both base64 in lines of 76 characters with
a final newline, as fedmsg writes them.
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hub.config import CryptoConfig
from hub.errors import ConfigError
from hub.signatures.x509 import canonical


def _lines(data: bytes) -> str:
    text = base64.b64encode(data).decode("ascii")
    return "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"


class EnvelopeSigner:
    """Signs envelopes with the hub's certificate and key."""

    def __init__(self, config: CryptoConfig) -> None:
        base = f"{config.ssldir}/{config.certname}"
        try:
            with open(f"{base}.key", "rb") as f:
                key = serialization.load_pem_private_key(f.read(), password=None)
            with open(f"{base}.crt", "rb") as f:
                cert = x509.load_pem_x509_certificate(f.read())
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"crypto.certname: cannot read {base}.key and .crt: {exc}") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError(f"crypto.certname: {base}.key is not an RSA key")
        self.key = key
        self.certificate = _lines(cert.public_bytes(serialization.Encoding.PEM))

    def sign(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """``envelope`` with ``crypto``, ``signature`` and ``certificate`` (a new dict)."""
        signed = {k: v for k, v in envelope.items() if k not in ("signature", "certificate")}
        signed["crypto"] = "x509"
        signature = self.key.sign(canonical(signed).encode(), padding.PKCS1v15(), hashes.SHA1())
        return {**signed, "signature": _lines(signature), "certificate": self.certificate}
