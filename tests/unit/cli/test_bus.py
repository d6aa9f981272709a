"""hub.cli.bus: message files, usage errors, and where publish and tail go without --endpoint."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import orjson
import pytest

from hub.cli import bus
from hub.cli.bus import UsageError, read_messages
from hub.cli.clients import render_json
from hub.config import config_from_dict
from hub.transports.zeromq.codec import Encoder

RECORDED = {"topic": "org.a", "msg": {"x": 1}, "msg_id": "2024-1", "timestamp": 1.0, "i": 7}


def test_recorded_envelope_is_sent_as_recorded() -> None:
    """An envelope line comes back unchanged; with new_ids only msg_id, timestamp and i change."""
    line = orjson.dumps(RECORDED).decode()
    [same] = read_messages([line], "f", Encoder())
    assert same == RECORDED
    [fresh] = read_messages([line], "f", Encoder(), new_ids=True)
    assert fresh["msg_id"] != "2024-1" and fresh["i"] == 1 and fresh["timestamp"] > 1.0
    assert {k: v for k, v in fresh.items() if k not in bus.FRESH_KEYS} == {
        "topic": "org.a",
        "msg": {"x": 1},
    }


def test_topic_body_lines_get_envelopes_and_blank_lines_are_skipped() -> None:
    """`{topic, body}` lines become envelopes numbered in order; blank lines do not count."""
    lines = ['{"topic": "t.1", "body": [1]}\n', "\n", '{"topic": "t.2", "body": null}\n']
    got = read_messages(lines, "f", Encoder())
    assert [(e["topic"], e["msg"], e["i"]) for e in got] == [("t.1", [1], 1), ("t.2", None, 2)]


def test_tail_json_output_reads_back() -> None:
    """tail --json's line for an envelope without topic carries it, so publish can read it."""
    line = render_json("org.b", {"msg": 2, "msg_id": "m"})
    [envelope] = read_messages([line], "f", Encoder())
    assert envelope == {"msg": 2, "msg_id": "m", "topic": "org.b"}


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("{not json", "f:2: not valid JSON"),
        ("[1, 2]", "f:2: expected an object with a topic"),
        ('{"topic": "", "body": 1}', "f:2: expected an object with a topic"),
        ('{"topic": "t", "body": 1, "extra": 2}', "f:2: expected an envelope (topic and msg) or "
         "{topic, body}, got the keys body, extra, topic"),
    ],
)  # fmt: skip
def test_a_bad_line_is_named_by_file_and_number(line: str, error: str) -> None:
    """Every line is checked first; a bad one is a usage error (exit 2) naming file:line."""
    with pytest.raises(UsageError) as info:
        read_messages(['{"topic": "ok", "body": 1}', line], "f", Encoder())
    assert str(info.value).startswith(error)
    assert info.value.exit_code == 2


def _args(**given: object) -> argparse.Namespace:
    base = {"topic": None, "body": None, "file": None, "new_ids": False}
    return argparse.Namespace(**{**base, **given})


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ({"file": "x", "topic": "t"}, "give TOPIC JSON or --file, not both"),
        ({"topic": "t"}, "give TOPIC and JSON"),
        ({"topic": "t", "body": "{"}, "the message body is not valid JSON"),
        ({"file": "/nonexistent/x"}, "/nonexistent/x: cannot read"),
    ],
)
def test_publish_usage_errors(given: dict[str, object], error: str) -> None:
    """Wrong argument combinations and unreadable input are usage errors, before any socket."""
    with pytest.raises(UsageError, match=error):
        bus._envelopes(_args(**given), io.StringIO(""))


def test_body_and_file_from_stdin(tmp_path: Path) -> None:
    """`TOPIC -` reads the body from stdin; `--file -` reads message lines from it."""
    [one] = bus._envelopes(_args(topic="t", body="-"), io.StringIO('{"k": "v"}'))
    assert (one["topic"], one["msg"]) == ("t", {"k": "v"})
    many = bus._envelopes(_args(file="-"), io.StringIO('{"topic": "a", "body": 1}\n' * 3))
    assert [e["i"] for e in many] == [1, 2, 3]


def test_targets_from_the_config() -> None:
    """Without --endpoint: publish binds the hub's connect endpoint or connects to its bound
    one; tail connects to every endpoint, wildcard hosts as loopback."""
    connects = config_from_dict({"endpoints": ["tcp://bus:9940"], "publish_endpoint": "bind:"
                                 "tcp://*:9941"})  # fmt: skip
    assert bus.publish_target(connects) == "bind:tcp://bus:9940"
    assert bus.tail_targets(connects) == ["tcp://bus:9940", "tcp://127.0.0.1:9941"]
    binds = config_from_dict({"endpoints": ["bind:tcp://*:9940"]})
    assert bus.publish_target(binds) == "tcp://127.0.0.1:9940"
