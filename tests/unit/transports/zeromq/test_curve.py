"""hub.transports.zeromq.curve: key files read strictly, reloads swap the allowed keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import zmq
from twisted.internet.task import Clock

from hub.cli.keygen import write_key_pair
from hub.config import CurveConfig, CurveSocketConfig, config_from_dict
from hub.errors import ConfigError
from hub.transports.zeromq.curve import Curve, read_allowed, read_secret


class Reactor(Clock):
    """A clock that takes readers, as the reactor does."""

    def addReader(self, reader: object) -> None:
        pass

    def removeReader(self, reader: object) -> None:
        pass


def test_a_secret_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    """A .key_secret file of mode 0644 is a ConfigError naming it; a public file has no secret."""
    public, secret = write_key_pair(tmp_path / "hub")
    assert read_secret(str(secret), "k")[1]
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        read_secret(str(secret), "k")
    with pytest.raises(ConfigError, match="holds no secret key"):
        read_secret(str(public), "k")


def test_allowed_keys_come_from_files_and_directories(tmp_path: Path) -> None:
    """A file names one key, a directory every *.key in it; a missing file is a ConfigError."""
    (tmp_path / "d").mkdir()
    one = write_key_pair(tmp_path / "one")[0]
    write_key_pair(tmp_path / "d" / "two")
    write_key_pair(tmp_path / "d" / "three")
    assert len(read_allowed([str(one), str(tmp_path / "d")], "k")) == 3
    with pytest.raises(ConfigError, match="cannot read the public key"):
        read_allowed([str(tmp_path / "nope.key")], "k")


def test_a_reload_swaps_the_allowed_keys_of_a_running_socket(tmp_path: Path) -> None:
    """prepare() reads the new set; apply() makes the ZAP handler allow exactly it."""
    write_key_pair(tmp_path / "hub")
    a, b = write_key_pair(tmp_path / "a")[0], write_key_pair(tmp_path / "b")[0]
    secret = str(tmp_path / "hub.key_secret")
    context = zmq.Context()
    curve = Curve(Reactor(), context, CurveConfig(sub=CurveSocketConfig(secret, (str(a),))))
    sock = context.socket(zmq.SUB)
    try:
        assert curve.serve(sock, "sub") and not curve.serve(sock, "pub")
        assert curve.zap is not None
        allowed = curve.zap.credentials_providers["sub"]
        key_a, key_b = zmq.auth.load_certificate(a)[0], zmq.auth.load_certificate(b)[0]
        assert allowed.callback("sub", key_a) and not allowed.callback("sub", key_b)
        apply = curve.prepare(CurveConfig(sub=CurveSocketConfig(secret, (str(b),))))
        assert allowed.callback("sub", key_a)  # nothing changes before apply
        assert apply() == ["sub: 1 CURVE key(s) allowed"]
        assert allowed.callback("sub", key_b) and not allowed.callback("sub", key_a)
    finally:
        sock.close(0)
        curve.stop()
        context.term()


def test_curve_for_a_socket_the_config_does_not_open_is_an_error(tmp_path: Path) -> None:
    """zmq.curve.pub without publish_endpoint names the key and what it needs."""
    pub = {"secret_key": "/k.key_secret", "allow": ["/keys"]}
    with pytest.raises(ConfigError, match=r"zmq\.curve\.pub: needs publish_endpoint"):
        config_from_dict({"endpoints": ["tcp://a:1"], "zmq": {"curve": {"pub": pub}}})
