"""hub.cli.import_toml and import_queues: a fedora-messaging TOML file as hub YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.cli.import_draft import render
from hub.cli.import_toml import draft_from_toml
from hub.config import load_config
from hub.errors import ConfigError
from tests.unit.cli.conftest import TOML
from tests.unit.cli.test_import_fedmsg import comments


def imported(path: Path) -> tuple[str, dict[str, Any]]:
    """The comments import-config prints for ``path`` as one line, and its YAML parsed."""
    text = render(draft_from_toml(path))
    return comments(text), yaml.safe_load(text)


def test_fixture_becomes_the_amqp_section() -> None:
    """amqp_url, publish_exchange, [qos] prefetch_count and [tls] (amqps://) are carried."""
    _, doc = imported(TOML)
    assert doc["amqp"] == {
        "url": "amqps://badges:@rabbitmq.example.org/%2Fpubsub",
        "exchange": "amq.topic",
        "prefetch": 25,
        "queue_prefix": "org.example",
        "queue_type": "quorum",
        "tls": {
            "ca_cert": "/etc/fedora-messaging/cacert.pem",
            "certfile": "/etc/fedora-messaging/badges-cert.pem",
            "keyfile": "/etc/fedora-messaging/badges-key.pem",
        },
    }


def test_each_queue_becomes_an_amqp_consumer() -> None:
    """A dotted queue keeps its name (prefix.name); callback, consumer_config and keys carry."""
    notes, doc = imported(TOML)
    config = {"award_threshold": 3, "badges": {"path": "/srv/badges", "cache": True}}
    assert doc["consumers"] == {
        "badges": {
            "class": "badges.consumer:Awarder",
            "source": "amqp",
            "topics": [
                "org.fedoraproject.prod.bodhi",
                "org.fedoraproject.prod.bodhi.*",
                "org.fedoraproject.*.fas.user.create",
            ],
            "ordered": True,
            "config": config,
        },
        "awards": {
            "class": "badges.consumer:Awarder",
            "source": "amqp",
            "topics": ["*"],
            "config": config,
        },
    }
    assert "Its queue 'awards' becomes 'org.example.awards'" in notes
    assert "'org.fedoraproject.*.fas.user.create': AMQP '*' is exactly one word" in notes
    assert "{'x-max-priority': 5}" in notes
    assert "'auto_delete': True" in notes


def test_what_is_not_carried_is_commented() -> None:
    """topic_prefix, client_properties, passive_declares and log_config are comments."""
    notes, _ = imported(TOML)
    for key in (
        "topic_prefix 'org.example'",
        "client_properties",
        "passive_declares True",
        "log_config",
    ):
        assert key in notes, key


def test_the_output_is_a_valid_hub_config(tmp_path: Path) -> None:
    """hub.config.load_config accepts what import-config prints."""
    path = tmp_path / "hub.yaml"
    path.write_text(render(draft_from_toml(TOML)))
    config = load_config(path, environ={})
    assert config.amqp is not None and config.amqp.queue_prefix == "org.example"
    assert {c.source for c in config.consumers.values()} == {"amqp"}


def test_defaults_are_fedora_messagings(tmp_path: Path) -> None:
    """No queues or bindings: the default queue bound to '#' becomes one consumer for all."""
    path = tmp_path / "minimal.toml"
    path.write_text('callback = "mypkg.handlers:on_message"\n[tls]\nca_cert = "/ca.pem"\n')
    notes, doc = imported(path)
    assert doc["amqp"] == {
        "url": "amqp://?connection_attempts=3&retry_delay=5",
        "exchange": "amq.topic",
    }
    assert doc["consumers"] == {
        "on_message": {"class": "mypkg.handlers:on_message", "source": "amqp", "topics": ["*"]}
    }
    assert "becomes the durable consumer-hub.on_message" in notes
    assert "amqps:// URLs only" in notes
    assert "prefetch_count unset" in notes


def test_no_callback_and_other_exchange(tmp_path: Path) -> None:
    """Without a callback the class is a placeholder; the bindings' one exchange is used."""
    path = tmp_path / "other.toml"
    path.write_text(
        'amqp_url = "amqp://localhost"\n[queues.q]\ndurable = true\nauto_delete = false\n'
        'exclusive = false\narguments = {}\n[[bindings]]\nqueue = "q"\nexchange = "zmq.topic"\n'
        'routing_keys = ["a.b"]\n[[bindings]]\nqueue = "elsewhere"\nexchange = "zmq.topic"\n'
        "routing_keys = []\n"
    )
    notes, doc = imported(path)
    assert doc["consumers"]["q"]["class"] == "CHANGE-ME:callback"
    assert doc["amqp"]["exchange"] == "zmq.topic"
    assert "callback is not set" in notes and "publish_exchange was 'amq.topic'" in notes
    assert "queues not in [queues] (elsewhere)" in notes


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("amqp_url = \n", "not valid TOML"),
        ("queues = 3\n", "queues: expected a table"),
        ("[[bindings]]\nqueue = 'q'\n", r"bindings\[0\]: expected a table with exchange"),
        ("amqp_url = 5\n", "amqp_url: expected a str"),
    ],
)
def test_invalid_input_is_a_config_error(tmp_path: Path, text: str, error: str) -> None:
    """Unparseable TOML or a key of the wrong shape is one ConfigError naming the file."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=error) as caught:
        draft_from_toml(path)
    assert str(path) in str(caught.value)
