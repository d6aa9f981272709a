"""``consumer-hub publish`` and ``consumer-hub tail``: their arguments and where they connect.

Runs on the CLI's main thread (the sockets are in `hub.cli.clients`, imported only by these
commands: the rest of the command line does not load pyzmq).

With ``--endpoint`` neither command reads the configuration, as ``fedmsg-logger`` and
``fedmsg-tail`` read none; without it they take the hub's endpoints from it. ``publish`` sends
``TOPIC JSON``, ``TOPIC -`` (the body read from stdin), or ``--file FILE`` (``-``: stdin): JSON
lines, each a whole envelope (an object with ``topic`` and ``msg``: sent as recorded, its
``msg_id`` and ``timestamp`` kept unless ``--new-ids``) or ``{"topic": ..., "body": ...}`` (a
new envelope). ``tail --json`` writes the first form, so what it records ``publish --file`` can
send again. Every line is checked before the first is sent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import orjson

from hub.cli.completion import files
from hub.config import HubConfig, load_config
from hub.errors import HubError
from hub.transports.zeromq.codec import Encoder

FRESH_KEYS = ("msg_id", "timestamp", "i")  # what --new-ids replaces in a recorded envelope


class UsageError(HubError):
    """The arguments or the message file cannot be used (exit code 2, as argparse's own)."""

    exit_code = 2


def add_parsers(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``publish`` and ``tail``."""
    pub = sub.add_parser("publish", parents=parents, help="send messages (like fedmsg-logger)",
                         description="Send one message, or a file of them, once a subscriber "
                         "wants their topic.")  # fmt: skip
    pub.add_argument("topic", nargs="?", metavar="TOPIC", help="the topic (not with --file)")
    pub.add_argument("body", nargs="?", metavar="JSON", help="the body as JSON; - reads stdin")
    files(pub.add_argument("-f", "--file", metavar="FILE", help="JSON lines: envelopes (as "
                           "tail --json writes) or {topic, body}; - reads stdin"))  # fmt: skip
    pub.add_argument("--new-ids", action="store_true",
                     help="give recorded envelopes a new msg_id, timestamp and i")  # fmt: skip
    pub.add_argument("--endpoint", help="connect here, or bind with bind:ENDPOINT; the config "
                     "is then not read (default: the config's first bind: endpoint, else bind "
                     "the first endpoint the hub connects to)")  # fmt: skip
    pub.add_argument("--timeout", type=float, default=5.0,
                     help="seconds to wait for a subscriber (default 5)")  # fmt: skip
    tail_ = sub.add_parser("tail", parents=parents, help="print live messages (like fedmsg-tail)")
    tail_.add_argument("--topic", default="*", help="glob pattern (default: every topic)")
    form = tail_.add_mutually_exclusive_group()
    form.add_argument("--pretty", action="store_true", help="indent the JSON")
    form.add_argument("--json", action="store_true",
                      help="one envelope per line, as publish --file reads")  # fmt: skip
    tail_.add_argument("--endpoint", action="append", help="connect here (repeatable; bind: "
                       "binds); the config is then not read (default: its endpoints)")  # fmt: skip


def cmd_publish(args: argparse.Namespace, stdin: TextIO | None = None) -> int:
    """Send the message(s) ``args`` name; print one line per message sent."""
    from hub.cli.clients import Publisher  # pyzmq: imported by the commands that use it

    stdin = sys.stdin if stdin is None else stdin
    envelopes = _envelopes(args, stdin)
    endpoint = args.endpoint or publish_target(load_config(args.config))
    with Publisher(endpoint, args.timeout) as publisher:
        for envelope in envelopes:
            publisher.send(envelope)
            print(f"sent {envelope.get('msg_id')} on {envelope['topic']} via {endpoint}")
    return 0


def _envelopes(args: argparse.Namespace, stdin: TextIO) -> list[dict[str, Any]]:
    encoder = Encoder()
    if args.file is not None:
        if args.topic is not None:
            raise UsageError("publish: give TOPIC JSON or --file, not both")
        if args.file == "-":
            return read_messages(stdin, "<stdin>", encoder, args.new_ids)
        try:
            with Path(args.file).open(encoding="utf-8") as lines:
                return read_messages(lines, args.file, encoder, args.new_ids)
        except OSError as exc:
            raise UsageError(f"{args.file}: cannot read: {exc.strerror}") from None
    if args.topic is None or args.body is None:
        raise UsageError("publish: give TOPIC and JSON (- for stdin), or --file FILE")
    text = stdin.read() if args.body == "-" else args.body
    return [encoder.envelope(args.topic, parse_body(text))]


def read_messages(
    lines: Iterable[str], source: str, encoder: Encoder, new_ids: bool = False
) -> list[dict[str, Any]]:
    """The envelopes a JSON-lines message file describes (blank lines skipped)."""
    envelopes = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            envelopes.append(_envelope(line, f"{source}:{number}", encoder, new_ids))
    return envelopes


def _envelope(line: str, where: str, encoder: Encoder, new_ids: bool) -> dict[str, Any]:
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{where}: not valid JSON: {exc}") from None
    topic = doc.get("topic") if isinstance(doc, dict) else None
    if not isinstance(topic, str) or not topic:
        raise UsageError(f"{where}: expected an object with a topic (a string)")
    if "msg" in doc:  # a whole envelope
        if not new_ids:
            return dict(doc)
        fresh = encoder.envelope(topic, doc["msg"])
        return {**doc, **{key: fresh[key] for key in FRESH_KEYS}}
    if set(doc) == {"topic", "body"}:
        return encoder.envelope(topic, doc["body"])
    raise UsageError(f"{where}: expected an envelope (topic and msg) or {{topic, body}}, "
                     f"got the keys {', '.join(sorted(doc))}")  # fmt: skip


def parse_body(text: str) -> Any:
    """The JSON body given on the command line or stdin."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"the message body is not valid JSON: {exc}") from None


def publish_target(config: HubConfig) -> str:
    """Where publish goes without ``--endpoint``: the hub's first bound endpoint, else bind
    the first one it connects to."""
    if not config.endpoints:
        raise UsageError(f"{config.source}: no ZeroMQ endpoints to publish to; give --endpoint")
    bound = [e.removeprefix("bind:") for e in config.endpoints if e.startswith("bind:")]
    if bound:
        return bound[0].replace("*", "127.0.0.1")
    return "bind:" + config.endpoints[0]


def cmd_tail(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print live messages until Ctrl-C or SIGTERM."""
    from hub.cli.clients import render_json, render_line, tail

    endpoints = args.endpoint or tail_targets(load_config(args.config))
    render = render_json if args.json else render_line(args.pretty)
    tail(endpoints, args.topic, render, sys.stdout if out is None else out)
    return 0


def tail_targets(config: HubConfig) -> list[str]:
    """The config's input endpoints and its publish endpoint, as a client connects to them."""
    found = [*config.endpoints, *([config.publish_endpoint] if config.publish_endpoint else [])]
    return [e.removeprefix("bind:").replace("*", "127.0.0.1") for e in found]


COMMANDS = {"publish": cmd_publish, "tail": cmd_tail}
