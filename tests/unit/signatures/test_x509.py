"""hub.signatures: fedmsg's x509 scheme against the real fedmsg library, both ways, and every
cause a message is refused for."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from hub.config import CryptoConfig
from hub.signatures.signer import EnvelopeSigner
from hub.signatures.x509 import Refused, Verifier
from tests.x509_ca import TestCA, real_fedmsg_crypto

TOPIC = "org.fedoraproject.prod.bodhi.update.comment"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """A CA with certificates for bodhi01, the hub and a host the policy does not allow."""
    authority = TestCA(tmp_path_factory.mktemp("pki"))
    for name in ("bodhi01", "hub01", "intruder01"):
        authority.issue(name)
    return authority


def crypto(ca: TestCA, **extra: Any) -> CryptoConfig:
    policy = {TOPIC: ("bodhi01", "hub01")}
    return CryptoConfig(validate_signatures=True, ca_cert_location=str(ca.ca_path),
                        crl_location=str(ca.crl_path), routing_policy=policy,
                        ssldir=str(ca.ssldir), **extra)  # fmt: skip


def envelope(n: int = 1, topic: str = TOPIC) -> dict[str, Any]:
    return {"topic": topic, "msg": {"comment": {"text": f"ünïcode {n}", "karma": 1.5}},
            "timestamp": 1700000000 + n, "msg_id": f"2026-{n}", "i": n,
            "username": "bodhi"}  # fmt: skip


def fedmsg_signed(ca: TestCA, certname: str, env: dict[str, Any]) -> dict[str, Any]:
    signed = real_fedmsg_crypto().sign(copy.deepcopy(env), **ca.fedmsg_config(certname=certname))
    assert isinstance(signed, dict) and signed["crypto"] == "x509"
    return signed  # type: ignore[no-any-return]


def cause(verifier: Verifier, env: dict[str, Any]) -> str:
    with pytest.raises(Refused) as info:
        verifier.check(env)
    return info.value.cause


def test_what_fedmsg_signs_the_hub_accepts(ca: TestCA) -> None:
    """fedmsg.crypto.sign with bodhi01's certificate passes; the signer is its CN."""
    assert Verifier(crypto(ca)).check(fedmsg_signed(ca, "bodhi01", envelope())) == "bodhi01"


def test_what_the_hub_signs_fedmsg_accepts(ca: TestCA) -> None:
    """EnvelopeSigner's envelope passes fedmsg.crypto.validate, and the hub's own check."""
    signed = EnvelopeSigner(crypto(ca, sign_messages=True, certname="hub01")).sign(envelope())
    fedmsg = real_fedmsg_crypto()
    config = ca.fedmsg_config(routing_policy={TOPIC: ["hub01"]}, routing_nitpicky=True)
    assert fedmsg.validate(copy.deepcopy(signed), **config) is True
    assert fedmsg.validate_signed_by(copy.deepcopy(signed), "hub01", **config) is True
    assert Verifier(crypto(ca)).check(signed) == "hub01"


def test_a_tampered_body_is_refused_as_a_bad_signature(ca: TestCA) -> None:
    """One changed byte of the body: bad_signature, the signer still named."""
    signed = fedmsg_signed(ca, "bodhi01", envelope())
    signed["msg"]["comment"]["karma"] = -1
    with pytest.raises(Refused) as info:
        Verifier(crypto(ca)).check(signed)
    assert (info.value.cause, info.value.signer) == ("bad_signature", "bodhi01")


def test_a_signer_the_routing_policy_does_not_allow_is_refused(ca: TestCA) -> None:
    """A signer the policy does not list is not_allowed; an unlisted topic only under nitpicky."""
    verifier = Verifier(crypto(ca))
    assert cause(verifier, fedmsg_signed(ca, "intruder01", envelope())) == "not_allowed"
    other = fedmsg_signed(ca, "intruder01", envelope(topic="org.fedoraproject.prod.wiki.edit"))
    assert verifier.check(other) == "intruder01"
    assert cause(Verifier(crypto(ca, routing_nitpicky=True)), other) == "not_allowed"


def test_a_revoked_certificate_is_refused_once_the_crl_is_read_again(tmp_path: Path) -> None:
    """Revoked after the hub read the CRL: refused once crl_cache_expiry has passed."""
    ca = TestCA(tmp_path / "pki")
    ca.issue("bodhi01")
    now = [0.0]
    verifier = Verifier(crypto(ca, crl_cache_expiry=60.0), clock=lambda: now[0])
    signed = fedmsg_signed(ca, "bodhi01", envelope())
    assert verifier.check(signed) == "bodhi01"
    ca.revoke("bodhi01")
    assert verifier.check(signed) == "bodhi01"  # the CRL read 0 s ago is still the one used
    now[0] = 61.0
    assert cause(verifier, signed) == "revoked"
    assert cause(Verifier(crypto(ca)), signed) == "revoked"


def test_unsigned_foreign_and_other_schemes_are_refused(ca: TestCA, tmp_path: Path) -> None:
    """No signature: unsigned; gpg: unsupported; a certificate of another CA: bad_certificate."""
    verifier = Verifier(crypto(ca))
    assert cause(verifier, envelope()) == "unsigned"
    assert cause(verifier, {**envelope(), "crypto": "gpg", "signature": "x"}) == "unsupported"
    stranger = TestCA(tmp_path / "other", name="Another CA")
    stranger.issue("bodhi01")
    assert cause(verifier, fedmsg_signed(stranger, "bodhi01", envelope())) == "bad_certificate"
    broken = {**fedmsg_signed(ca, "bodhi01", envelope()), "certificate": "bm90IGEgY2VydA=="}
    assert cause(verifier, broken) == "bad_certificate"
