"""fedmsg's x509 scheme, checked: the certificate a message carries must be issued by the CA,
not revoked by the CRL, its signature must verify, and ``routing_policy`` must allow its name
on the topic. The same four checks as ``fedmsg.crypto.x509.validate``, each failure its cause.

Runs on the ``signatures`` thread (`hub.signatures.gate`); built on the reactor at start-up and
reload (reading the CA and CRL: a `ConfigError` when they cannot be read). The CA and CRL are
read again every ``crl_cache_expiry`` seconds (an unreadable file then keeps the last good
one, and says so); a certificate, once checked against them, is kept with its name and key
(the hosts of a bus are few, the messages many), so a message usually costs one RSA
verification and one canonical JSON encoding. The signed bytes are fedmsg's
``fedmsg.encoding.dumps`` of the envelope without ``signature`` and ``certificate``: sorted
keys, no spaces, ASCII (`canonical`).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from hub.config import CryptoConfig
from hub.errors import ConfigError, HubError

log = logging.getLogger(__name__)

CAUSES = ("unsigned", "unsupported", "bad_certificate", "revoked", "crl_expired",
          "bad_signature", "not_allowed", "error")  # fmt: skip
CACHE_SIZE = 1024  # certificates kept (good and bad); emptied when full, and on every re-read
canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode  # fedmsg's dumps


class Refused(HubError):
    """A message failed the checks: ``cause`` (one of `CAUSES`), the ``signer`` if known."""

    def __init__(self, cause: str, detail: str, signer: str | None = None) -> None:
        super().__init__(f"{cause}: {detail}")
        self.cause = cause
        self.detail = detail
        self.signer = signer


@dataclass(frozen=True)
class Signer:
    """A certificate that passed: its common name, key and validity."""

    name: str
    key: rsa.RSAPublicKey
    not_before: datetime.datetime
    not_after: datetime.datetime


@dataclass(frozen=True)
class Authority:
    """The CA certificate and the CRL, as read at ``read_at`` (``time.monotonic()``)."""

    ca: x509.Certificate
    crl: x509.CertificateRevocationList | None
    read_at: float


def read_authority(config: CryptoConfig, now: float) -> Authority:
    """The CA and CRL files; `ConfigError` naming the one that is unreadable or invalid."""
    assert config.ca_cert_location is not None  # hub.config.crypto: required to validate
    try:
        with open(config.ca_cert_location, "rb") as f:
            ca = x509.load_pem_x509_certificate(f.read())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"crypto.ca_cert_location: {config.ca_cert_location}: {exc}") from None
    if config.crl_location is None:
        return Authority(ca, None, now)
    try:
        with open(config.crl_location, "rb") as f:
            crl = x509.load_pem_x509_crl(f.read())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"crypto.crl_location: {config.crl_location}: {exc}") from None
    if crl.issuer != ca.subject or not crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
        raise ConfigError(f"crypto.crl_location: {config.crl_location} is not signed by the CA")
    return Authority(ca, crl, now)


class Verifier:
    """Checks envelopes against one ``crypto`` configuration. Used by one thread at a time."""

    def __init__(self, config: CryptoConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self.authority = read_authority(config, clock())
        self._signers: dict[str, Signer | Refused] = {}

    def check(self, envelope: Mapping[str, Any]) -> str:
        """The signer's name, if ``envelope`` passes every check; else raise `Refused`."""
        signature, certificate = _credentials(envelope)
        signer = self._signer(certificate)
        try:
            raw = base64.b64decode(signature)
            body = {k: v for k, v in envelope.items() if k not in ("signature", "certificate")}
            signer.key.verify(raw, canonical(body).encode(), padding.PKCS1v15(), hashes.SHA1())
        except (binascii.Error, ValueError, InvalidSignature):
            raise Refused("bad_signature", "the signature does not match", signer.name) from None
        self._allowed(str(envelope.get("topic")), signer.name)
        return signer.name

    def _signer(self, certificate: str) -> Signer:
        """The certificate checked against the CA and CRL (from the cache when it was)."""
        self._refresh()
        known = self._signers.get(certificate)
        if known is None:
            if len(self._signers) >= CACHE_SIZE:
                self._signers.clear()
            known = self._signers[certificate] = _checked(certificate, self.authority)
        if isinstance(known, Refused):
            raise known
        now = datetime.datetime.now(datetime.UTC)
        if not known.not_before <= now <= known.not_after:
            raise Refused("bad_certificate", f"not valid now (until {known.not_after})", known.name)
        crl = self.authority.crl
        if crl is not None and crl.next_update_utc is not None and crl.next_update_utc < now:
            raise Refused("crl_expired", f"the CRL expired at {crl.next_update_utc}", known.name)
        return known

    def _allowed(self, topic: str, signer: str) -> None:
        """``routing_policy``: a topic it names only from the names it lists; another topic
        only when not ``routing_nitpicky``."""
        allowed = self.config.routing_policy.get(topic)
        if allowed is None and self.config.routing_nitpicky:
            raise Refused("not_allowed", "routing_policy names no signer for the topic", signer)
        if allowed is not None and signer not in allowed:
            raise Refused("not_allowed", "routing_policy does not allow this signer", signer)

    def _refresh(self) -> None:
        """Re-read the CA and CRL once ``crl_cache_expiry`` has passed since the last read."""
        now = self.clock()
        if now - self.authority.read_at < self.config.crl_cache_expiry:
            return
        try:
            self.authority = read_authority(self.config, now)
        except ConfigError as exc:
            log.error("signatures: keeping the CA and CRL read before: %s", exc)
            self.authority = Authority(self.authority.ca, self.authority.crl, now)
            return
        self._signers.clear()


def _credentials(envelope: Mapping[str, Any]) -> tuple[str, str]:
    """The signature and certificate of an x509-signed envelope (fedmsg's ``crypto`` rules)."""
    scheme = envelope.get("crypto")
    signature, certificate = envelope.get("signature"), envelope.get("certificate")
    if scheme not in (None, "x509") or (scheme is None and certificate is None and signature):
        raise Refused("unsupported", f"signed with {scheme or 'gpg'!r}, not x509")
    if not isinstance(signature, str) or not isinstance(certificate, str):
        raise Refused("unsigned", "no signature and certificate")
    return signature, certificate


def _checked(certificate: str, authority: Authority) -> Signer | Refused:
    """A new certificate: issued by the CA, not revoked; or why not."""
    try:
        cert = x509.load_pem_x509_certificate(base64.b64decode(certificate))
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        name = str(names[0].value) if names else "(no CN)"
    except (binascii.Error, ValueError) as exc:
        return Refused("bad_certificate", f"unreadable: {exc}")
    try:
        cert.verify_directly_issued_by(authority.ca)
    except (ValueError, TypeError, InvalidSignature):
        return Refused("bad_certificate", "not issued by the CA", name)
    crl = authority.crl
    if crl is not None and crl.get_revoked_certificate_by_serial_number(cert.serial_number):
        return Refused("revoked", f"serial {cert.serial_number:x} is on the CRL", name)
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return Refused("bad_certificate", "not an RSA key (fedmsg signs with RSA)", name)
    return Signer(name, key, cert.not_valid_before_utc, cert.not_valid_after_utc)
