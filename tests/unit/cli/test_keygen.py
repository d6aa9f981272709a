"""hub.cli.keygen: a CURVE key pair ZeroMQ reads, the secret half private, nothing overwritten."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import zmq.auth

from hub.cli.keygen import write_key_pair
from hub.errors import ConfigError


def test_keygen_writes_a_pair_zeromq_reads_with_a_private_secret(tmp_path: Path) -> None:
    """PATH.key (0644, public only) and PATH.key_secret (0600, both keys), the same public key."""
    public, secret = write_key_pair(tmp_path / "hub")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    pub_key, none = zmq.auth.load_certificate(public)
    same, secret_key = zmq.auth.load_certificate(secret)
    assert none is None and secret_key and pub_key == same and len(pub_key) == 40


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    """A second keygen on the same path is a ConfigError and leaves the first pair as it was."""
    _, secret = write_key_pair(tmp_path / "hub")
    before = secret.read_bytes()
    with pytest.raises(ConfigError, match="exists"):
        write_key_pair(tmp_path / "hub")
    assert secret.read_bytes() == before
