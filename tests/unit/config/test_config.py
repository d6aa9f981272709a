"""hub.config and hub.validate: the frozen config, drop-ins, and errors naming file and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hub.config import config_from_dict, load_config
from hub.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def test_shipped_configs_are_valid() -> None:
    """etc/demo.yaml and the sample /etc config (with its drop-in) load cleanly."""
    demo = load_config(REPO / "etc" / "demo.yaml")
    assert set(demo.enabled_consumers) == {"bodhi-log", "everything-log", "slow-compose", "archive"}
    sample = load_config(REPO / "etc" / "consumer-hub" / "hub.yaml")
    assert "audit" in sample.consumers and not sample.enabled_consumers
    assert sample.statsd.prefix is None  # the sample leaves the per-host default in place


def test_config_is_frozen_and_defaults_apply() -> None:
    """A minimal config gets documented defaults and cannot be mutated."""
    config = config_from_dict({"endpoints": ["tcp://a:1"], "consumers": {"c": {"class": "log"}}})
    consumer = config.consumers["c"]
    assert (consumer.threads, consumer.queue_size, consumer.enabled) == (1, 10_000, True)
    assert config.shutdown_timeout_s == 30.0
    assert config.statsd.prefix is None  # hub.<host>[.<instance>], worked out by the sink
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.endpoints = ()  # type: ignore[misc]


def test_dropins_merge_in_name_order(tmp_path: Path) -> None:
    """hub.d/*.yaml are merged key by key, later files winning."""
    (tmp_path / "hub.yaml").write_text("endpoints: [tcp://a:1]\nconsumers: {c: {class: log}}\n")
    (tmp_path / "hub.d").mkdir()
    (tmp_path / "hub.d" / "10-a.yaml").write_text("consumers: {c: {threads: 3}}\n")
    (tmp_path / "hub.d" / "20-b.yaml").write_text("consumers: {c: {threads: 4}, d: {class: x:Y}}")
    config = load_config(tmp_path / "hub.yaml")
    assert config.consumers["c"].threads == 4
    assert config.consumers["c"].cls == "log"
    assert config.consumers["d"].cls == "x:Y"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"endpoints": "tcp://a:1"}, "endpoints: expected a list, got string"),
        ({"endpoints": ["tcp://a:1"], "zmq": {"rcvhwm": True}}, "zmq.rcvhwm: expected int"),
        ({"endpoints": ["tcp://a:1"], "status": {"colour": 1}},
         "status.colour: unknown key; valid keys are: archive_raw, enabled, host, port"),
        ({"endpoints": ["tcp://a:1"], "log_level": "LOUD"}, "log_level: expected one of DEBUG"),
        ({"endpoints": ["tcp://a:1"], "consumers": {"c": {}}}, "consumers.c.class: required"),
        ({"endpoints": ["tcp://a:1"], "consumers": []}, "consumers: expected a mapping, got list"),
        ({"producers": {"p": {"class": "x:Y", "every": 1}}}, "producers.p.every: unknown key; "
         "valid keys are: class, config, enabled, interval_s, stuck_after_s"),
        ({"producers": {"p": {"class": "x:Y", "interval_s": 0}}},
         "producers.p.interval_s: expected a number of seconds greater than 0, or null"),
        ({"producers": {"p": {}}}, "producers.p.class: required"),
    ],
)  # fmt: skip
def test_errors_name_source_key_and_expectation(data: dict, message: str) -> None:
    """Each invalid value is reported with the source, dotted key path and what was expected."""
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, source="test.yaml")
    assert str(info.value).startswith("test.yaml: ")
    assert message in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A config path that does not exist is reported, not a traceback."""
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config(tmp_path / "absent.yaml")


def test_state_dir_defaults_to_systemds_state_directory(tmp_path: Path) -> None:
    """Without state_dir the first path of $STATE_DIRECTORY is used, else /var/lib/...; a
    state_dir in the file wins over both."""
    path = tmp_path / "hub.yaml"
    path.write_text("endpoints: [tcp://a:1]\n")
    env = {"STATE_DIRECTORY": "/var/lib/consumer-hub/alpha:/var/lib/other"}
    assert load_config(path, env).state_dir == "/var/lib/consumer-hub/alpha"
    assert load_config(path, {}).state_dir == "/var/lib/consumer-hub"
    path.write_text("endpoints: [tcp://a:1]\nstate_dir: /srv/hub\n")
    assert load_config(path, env).state_dir == "/srv/hub"


def _transports(data: dict) -> str:
    """The ConfigError text for ``data``, or "" when it builds."""
    try:
        config_from_dict(data)
    except ConfigError as exc:
        return str(exc)
    return ""


AMQP = {"url": "amqp://guest:guest@127.0.0.1:5672/%2F"}
C = {"class": "log"}


def test_a_consumers_source_defaults_to_the_only_transport() -> None:
    """With ZeroMQ only or AMQP only, source and publish_to need not be said; endpoints become
    optional when every consumer reads AMQP."""
    zmq_only = config_from_dict({"endpoints": ["tcp://a:1"], "consumers": {"c": C}})
    assert zmq_only.consumers["c"].source == "zmq" and zmq_only.publish_to == "zmq"
    amqp_only = config_from_dict({"amqp": AMQP, "consumers": {"c": dict(C, ordered=True)}})
    assert amqp_only.consumers["c"].source == "amqp" and amqp_only.publish_to == "amqp"
    assert amqp_only.amqp is not None and amqp_only.amqp.exchange == "amq.topic"
    assert amqp_only.amqp.queue_prefix == "consumer-hub" and amqp_only.amqp.prefetch is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"consumers": {}}, "endpoints: required key is missing"),
        ({"endpoints": ["tcp://a:1"], "amqp": AMQP, "consumers": {"c": C}, "publish_to": "zmq"},
         "consumers.c.source: required when both endpoints and amqp are configured"),
        ({"endpoints": ["tcp://a:1"], "consumers": {"c": dict(C, source="amqp")}},
         "consumers.c.source: amqp is not configured (no amqp)"),
        ({"endpoints": ["tcp://a:1"], "consumers": {"c": dict(C, ordered=True)}},
         "consumers.c.ordered: needs source: amqp"),
        ({"endpoints": ["tcp://a:1"], "amqp": AMQP, "consumers": {}},
         "publish_to: required when both"),
        ({"endpoints": ["tcp://a:1"], "consumers": {}, "publish_to": "zmq"},
         "publish_to: zmq needs publish_endpoint"),
        ({"amqp": {"url": "http://x"}}, "amqp.url: expected an AMQP URL"),
        ({"amqp": dict(AMQP, queue_type="mirrored")}, "amqp.queue_type: expected one of"),
        ({"amqp": dict(AMQP, prefetch=0)}, "amqp.prefetch: expected a whole number greater"),
        ({"amqp": dict(AMQP, bogus=1)}, "amqp.bogus: unknown key; valid keys are: exchange"),
        ({"amqp": AMQP, "consumers": {"c": C},
          "retry": {"max_attempts": 10, "initial_delay_s": 60, "max_delay_s": 600}},
         "retry: the worst-case retry schedule (4680 s) reaches RabbitMQ's consumer ack"),
    ],
)  # fmt: skip
def test_transport_errors_name_the_key(data: dict, message: str) -> None:
    """Each wrong transport setting is refused with the key it is about."""
    assert message in _transports(data)


def test_producers_parse_with_defaults_and_enabled_filter() -> None:
    """A producer needs only class; interval_s and stuck_after_s default to the class's."""
    producers = {"a": {"class": "x:A", "interval_s": 2}, "b": {"class": "x:B", "enabled": False}}
    config = config_from_dict({"endpoints": ["tcp://a:1"], "producers": producers})
    assert config.producers["a"].interval_s == 2.0 and config.producers["a"].stuck_after_s is None
    assert list(config.enabled_producers) == ["a"]


def test_log_level_accepts_any_case() -> None:
    """log_level: debug, Warning and ERROR are all valid, stored in upper case."""
    for given, stored in (("debug", "DEBUG"), ("Warning", "WARNING"), ("ERROR", "ERROR")):
        config = config_from_dict({"endpoints": ["tcp://a:1"], "log_level": given})
        assert config.log_level == stored


def test_top_level_valid_keys_hide_internal_ones() -> None:
    """An unknown top-level key lists the valid keys, without the loader's own __source__."""
    with pytest.raises(ConfigError, match="valid keys are: amqp, ") as info:
        config_from_dict({"endpoints": ["tcp://a:1"], "colour": 1}, source="t.yaml")
    assert "__source__" not in str(info.value)
    assert str(info.value).startswith("t.yaml: colour: unknown key")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("endpoints: [tcp://a:1]\nconsumers:\n  c:\n    class: log\n    threads: 2\n"
         "    threads: 3\n", "consumers.c.threads: key given twice, at lines 5 and 6"),
        ("endpoints: [tcp://a:1]\nlog_level: info\nendpoints: []\n",
         "endpoints: key given twice, at lines 1 and 3"),
        ("endpoints: [tcp://a:1]\nconsumers: {c: {class: log, class: x}}\n",
         "consumers.c.class: key given twice, at line 2"),
    ],
)  # fmt: skip
def test_duplicate_yaml_key_names_both_lines(tmp_path: Path, text: str, message: str) -> None:
    """A key given twice in one mapping is a ConfigError naming file, key path and both lines."""
    path = tmp_path / "hub.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: {message}")


def test_yaml_merge_keys_and_aliases_are_not_duplicates(tmp_path: Path) -> None:
    """A `<<:` merge overridden by an explicit key, and an alias used twice, load cleanly."""
    path = tmp_path / "hub.yaml"
    path.write_text(
        "endpoints: [tcp://a:1]\nconsumers:\n  a: &c {class: log, threads: 2}\n"
        "  b: {<<: *c, threads: 3}\n  c: *c\n"
    )
    config = load_config(path)
    assert [config.consumers[n].threads for n in "abc"] == [2, 3, 2]


def test_status_token_and_socket_keys() -> None:
    """token_file, socket, socket_mode (octal), socket_group; a bad mode or key is refused."""
    status = {"token_file": "/t", "socket": "/run/s.sock", "socket_mode": "0600",
              "socket_group": "adm"}  # fmt: skip
    config = config_from_dict({"endpoints": ["tcp://x:1"], "status": status})
    assert (config.status.token_file, config.status.socket) == ("/t", "/run/s.sock")
    assert (config.status.socket_mode, config.status.socket_group) == ("0600", "adm")
    with pytest.raises(ConfigError, match=r"socket_mode.*octal"):
        config_from_dict({"endpoints": ["tcp://x:1"], "status": {"socket_mode": "0999"}})
    with pytest.raises(ConfigError, match="tokenfile"):
        config_from_dict({"endpoints": ["tcp://x:1"], "status": {"tokenfile": "/t"}})
