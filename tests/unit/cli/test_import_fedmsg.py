"""hub.cli.import_fedmsg and import_moksha: a fedmsg.d/ directory as hub YAML."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.cli.import_draft import render
from hub.cli.import_fedmsg import draft_from_fedmsg, read_fedmsg_dir
from hub.config import load_config
from hub.errors import ConfigError
from tests.unit.cli.conftest import FEDMSG_D


def imported(directory: Path) -> tuple[str, dict[str, Any]]:
    """The comments import-config prints for ``directory`` as one line, and its YAML parsed."""
    text = render(draft_from_fedmsg(directory))
    return comments(text), yaml.safe_load(text)


def comments(text: str) -> str:
    """Every ``#`` comment of ``text`` joined into one line (so wrapped notes read whole)."""
    lines = [line.strip() for line in text.splitlines()]
    return " ".join(line.lstrip("#").strip() for line in lines if line.startswith("#"))


def test_files_are_read_in_order_and_merged_like_fedmsg() -> None:
    """Later files win, dicts of dicts merge recursively, and only *.py files are read."""
    config, files = read_fedmsg_dir(FEDMSG_D)
    assert [f.name for f in files] == ["00-base.py", "10-endpoints.py", "20-consumers.py"]
    assert config["environment"] == "stg"
    assert config["moksha.workers_per_consumer"] == 2
    assert set(config["endpoints"]) == {"relay_outbound", "bodhi"}
    assert config["irc"] == {"network": "irc.libera.chat", "port": 6697}
    assert "this file" not in config


def test_real_fedmsg_reads_the_fixture_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """fedmsg.config.load_config over the same files gives the same values."""
    fedmsg_config = pytest.importorskip("fedmsg.config", reason="fedmsg is not installed")
    monkeypatch.setattr(fedmsg_config, "__cache", {})  # fedmsg's module cache, restored after
    ours, files = read_fedmsg_dir(FEDMSG_D)
    with pytest.warns(DeprecationWarning):
        theirs = fedmsg_config.load_config(
            filenames=[str(f) for f in files], disable_defaults=True, invalidate_cache=True
        )
    assert {k: theirs[k] for k in ours} == ours
    assert set(theirs) - set(ours) <= {"topic_prefix_re"}  # fedmsg's derived key


def test_fixture_becomes_endpoints_consumers_and_fedmsg_section(moksha_registry: Path) -> None:
    """Endpoints from two files, moksha's PUB socket, fedmsg.config_dir and the consumer on."""
    _, doc = imported(FEDMSG_D)
    assert doc["endpoints"] == [
        "tcp://127.0.0.1:4001",
        "tcp://bodhi1.example.org:3000",
        "tcp://bodhi2.example.org:3000",
    ]
    assert doc["publish_endpoint"] == "bind:tcp://*:5999"
    assert doc["fedmsg"] == {"config_dir": str(FEDMSG_D)}
    assert doc["consumers"]["test-bodhi"] == {
        "class": "test-bodhi",
        "topics": ["org.fedoraproject.prod.bodhi.*"],
        "threads": 2,
    }
    assert "test-off" not in doc["consumers"]
    assert "test-many" not in doc["consumers"]  # its key is not set at all


def test_the_output_is_a_valid_hub_config(tmp_path: Path, moksha_registry: Path) -> None:
    """hub.config.load_config accepts what import-config prints, fedmsg: section included."""
    path = tmp_path / "hub.yaml"
    path.write_text(render(draft_from_fedmsg(FEDMSG_D)))
    config = load_config(path, environ={})
    assert config.fedmsg["environment"] == "stg"  # read through fedmsg.config_dir
    assert config.consumers["test-bodhi"].threads == 2
    assert config.publish_endpoint == "bind:tcp://*:5999"


def test_what_is_not_carried_is_commented(moksha_registry: Path) -> None:
    """Off and broken consumers, signatures, backlog recovery and zmq_* options are comments."""
    notes, _ = imported(FEDMSG_D)
    assert "test-off (test.off.enabled)" in notes
    assert "test-broken (hub_tests_no_such_module:Consumer): cannot import" in notes
    assert "ModuleNotFoundError" in notes
    assert "test-nokey" in notes and "no config_key" in notes
    for key in ("validate_signatures", "status_directory", "datagrepper_url", "zmq_tcp_keepalive"):
        assert key in notes, key
    assert "durable log replaces it" in notes
    assert "validate_signatures is not set" in notes
    assert "relay_inbound 'tcp://127.0.0.1:2003'" in notes


def write_fedmsg_d(directory: Path, **config: Any) -> Path:
    """A one-file fedmsg.d with ``config``."""
    directory.mkdir()
    (directory / "base.py").write_text(f"config = {config!r}\n")
    return directory


def test_moksha_topics_become_globs(tmp_path: Path, moksha_registry: Path) -> None:
    """'' and '*' are everything, a prefix p is p*, an inner '*' is kept and commented."""
    fedmsg_d = write_fedmsg_d(tmp_path / "d", **{"test.many.enabled": True})
    notes, doc = imported(fedmsg_d)
    assert doc["consumers"]["test-many"]["topics"] == [
        "*",
        "org.a*",
        "org.b.*",
        "org.fedoraproject.*.buildsys.tag*",
        "org.c[?]d*",
    ]
    assert "subscribed to the prefix 'org.fedoraproject..buildsys.tag'" in notes
    assert doc["consumers"]["test-many"]["threads"] == 1
    assert "endpoints" not in doc and "names no endpoints" in notes


def test_zmq_strict_and_blocking_mode(tmp_path: Path, moksha_registry: Path) -> None:
    """zmq_strict topics match exactly; moksha.blocking_mode is one thread."""
    fedmsg_d = write_fedmsg_d(
        tmp_path / "d",
        **{"test.bodhi.enabled": True, "zmq_strict": True, "moksha.blocking_mode": True},
        **{"moksha.workers_per_consumer": 4, "endpoints": {"x": "tcp://*:3000"}},
    )
    notes, doc = imported(fedmsg_d)
    assert doc["consumers"]["test-bodhi"]["topics"] == ["org.fedoraproject.prod.bodhi."]
    assert doc["consumers"]["test-bodhi"]["threads"] == 1
    assert doc["endpoints"] == ["tcp://127.0.0.1:3000"]
    assert "a bind address" in notes


def test_active_relay_is_the_publish_endpoint(tmp_path: Path) -> None:
    """active: True with relay_inbound and no PUB socket of moksha's: hub.publish() connects."""
    fedmsg_d = write_fedmsg_d(
        tmp_path / "d", endpoints={"a": ["tcp://a:1"]}, active=True, relay_inbound="tcp://r:2003"
    )
    _, doc = imported(fedmsg_d)
    assert doc["publish_endpoint"] == "tcp://r:2003"


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("config = {'a': 1\n", "SyntaxError"),
        ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
        ("settings = {}\n", "defines no 'config' dict"),
    ],
)
def test_a_bad_file_is_a_config_error_naming_it(tmp_path: Path, source: str, error: str) -> None:
    """A file that does not parse, raises, or defines no config dict is one ConfigError."""
    shutil.copytree(FEDMSG_D, tmp_path / "d")
    (tmp_path / "d" / "30-bad.py").write_text(source)
    with pytest.raises(ConfigError, match=error) as caught:
        read_fedmsg_dir(tmp_path / "d")
    assert "30-bad.py" in str(caught.value)


def test_fedmsg_signature_keys_become_the_crypto_section(
    tmp_path: Path, moksha_registry: Path
) -> None:
    """fedmsg.d's signature keys become a crypto: section the hub loads (https CA made local)."""
    fedmsg_d = write_fedmsg_d(
        tmp_path / "d", endpoints={"x": ["tcp://127.0.0.1:1"]}, validate_signatures=True,
        ssldir="/etc/pki/fedmsg", ca_cert_location="https://fedoraproject.org/fedmsg/ca.crt",
        crl_location="/etc/pki/fedmsg/crl.pem", routing_nitpicky=True, crl_cache_expiry=600,
        routing_policy={"org.x.a": ["host-a"]}, sign_messages=True,
        certnames={"shell.hub01": "hub-hub01.example.org"},
    )  # fmt: skip
    notes, doc = imported(fedmsg_d)
    assert doc["crypto"] == {
        "validate_signatures": True, "routing_policy": {"org.x.a": ["host-a"]},
        "routing_nitpicky": True, "crl_cache_expiry": 600,
        "ca_cert_location": "/etc/pki/fedmsg/ca.crt", "crl_location": "/etc/pki/fedmsg/crl.pem",
        "ssldir": "/etc/pki/fedmsg", "sign_messages": True, "certname": "hub-hub01.example.org",
    }  # fmt: skip
    assert "download it to /etc/pki/fedmsg/ca.crt" in notes
    path = tmp_path / "hub.yaml"
    path.write_text(render(draft_from_fedmsg(fedmsg_d)))
    config = load_config(path, environ={})
    assert config.crypto.routing_policy == {"org.x.a": ("host-a",)}
    assert config.fedmsg["validate_signatures"] is False  # the hub checks, not each consumer


def test_signing_with_several_certnames_asks_which(tmp_path: Path, moksha_registry: Path) -> None:
    """sign_messages with two certnames: not carried, the comment lists both."""
    fedmsg_d = write_fedmsg_d(tmp_path / "d", sign_messages=True,
                              certnames={"a.h": "cert-a", "b.h": "cert-b"})  # fmt: skip
    notes, doc = imported(fedmsg_d)
    assert "sign_messages" not in doc.get("crypto", {})
    assert "one of certnames' values (cert-a, cert-b)" in notes
