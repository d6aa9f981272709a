"""What checking and making fedmsg signatures costs: ``python -m bench.signatures``.

Runs on this process's main thread only (the ``signatures`` thread's work, timed alone). Signs
the bundled samples with a throwaway CA made here (RSA 2048, as fedmsg's certificates are) and
prints, per message: decoding (the reactor's share, for scale), a check whose certificate was
seen before (the usual case: a bus has few hosts), a check of a certificate never seen (one
more RSA verification, against the CA, and a CRL look-up), and signing one (``hub.publish()``,
on the publishing thread). Best of ``--repeat`` rounds; figures in docs/security.md.
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hub.config import CryptoConfig
from hub.data import load_samples
from hub.signatures.signer import EnvelopeSigner
from hub.signatures.x509 import Verifier
from hub.transports.zeromq.codec import decode, encode_envelope

DAY = datetime.timedelta(days=1)


def _cert(subject: str, key: Any, issuer: str, issuer_key: Any) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    by = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(by)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + DAY)
            .sign(issuer_key, hashes.SHA256()))  # fmt: skip


def make_pki(directory: Path) -> CryptoConfig:
    """A CA, an empty CRL and host01's certificate and key in ``directory``."""
    ca_key, key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in "ab")
    ca = _cert("bench CA", ca_key, "bench CA", ca_key)
    now = datetime.datetime.now(datetime.UTC)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject).last_update(now)
           .next_update(now + DAY).sign(ca_key, hashes.SHA256()))  # fmt: skip
    pem = serialization.Encoding.PEM
    (directory / "ca.crt").write_bytes(ca.public_bytes(pem))
    (directory / "crl.pem").write_bytes(crl.public_bytes(pem))
    (directory / "host01.crt").write_bytes(
        _cert("host01", key, "bench CA", ca_key).public_bytes(pem)
    )
    (directory / "host01.key").write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    return CryptoConfig(validate_signatures=True, ca_cert_location=str(directory / "ca.crt"),
                        crl_location=str(directory / "crl.pem"), sign_messages=True,
                        ssldir=str(directory), certname="host01")  # fmt: skip


def per_message(run: Callable[[], int], repeat: int) -> float:
    """The best of ``repeat`` rounds of ``run`` (which returns its message count), in µs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        count = run()
        best = min(best, (time.perf_counter() - start) / count)
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.signatures", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        config = make_pki(Path(tmp))
        signer, verifier = EnvelopeSigner(config), Verifier(config)
        samples = [dict(s, msg_id=f"bench-{n}") for n, s in enumerate(load_samples())]
        signed = [signer.sign(s) for s in samples]
        frames = [encode_envelope(s) for s in signed]
        envelopes = [decode(f, 1 << 30, 0.0).envelope for f in frames]

        def checks(fresh: bool) -> int:
            for envelope in envelopes:
                if fresh:
                    verifier._signers.clear()  # the cache-miss case, on purpose
                verifier.check(envelope)
            return len(envelopes)

        figures = {
            "decode (reactor, for scale)": per_message(
                lambda: len([decode(f, 1 << 30, 0.0) for f in frames]), args.repeat),
            "check, certificate seen before": per_message(lambda: checks(False), args.repeat),
            "check, certificate never seen": per_message(lambda: checks(True), args.repeat),
            "sign (hub.publish)": per_message(
                lambda: len([signer.sign(s) for s in samples[:100]]), args.repeat),
        }  # fmt: skip
    size = sum(map(len, (f[1] for f in frames))) / len(frames)
    print(
        f"{len(frames)} bundled samples, signed envelopes of {size:.0f} bytes on average; "
        f"best of {args.repeat}, µs a message:"
    )
    for what, value in figures.items():
        print(f"  {what:34} {value:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
