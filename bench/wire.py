"""The benchmark's wire format: real fedmsg samples stamped with a sequence number and send time.

Runs in the publisher processes (the templates) and wherever messages are counted (``STAMP``):
the hub's consumer worker threads and the baseline processes. Pure functions, no state.

Each envelope gets a unique ``msg_id``, an ``i`` numbered per publishing identity as a real
fedmsg publisher numbers them (so the hub's upstream gap tracker sees no false gaps), and its
``msg`` gets a first key ``"bench": [seq, sent_ns]``, where ``sent_ns`` is
``time.monotonic_ns()`` in the publisher (CLOCK_MONOTONIC is system-wide on Linux, so the
receiving process can subtract it). Warm-up messages carry ``seq == -1`` and ``i == 0``. The
bytes are built by formatting a pre-rendered template, so the publisher spends no time in a
JSON encoder.

For AMQP (fedora-messaging's wire format) the body is the sample's ``msg`` itself, with the same
first key ``"bench": [seq, sent_ns]`` (`AmqpTemplate`); the topic is the routing key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent.parent / "hub" / "data" / "fedmsg-samples.jsonl"
WARMUP_SEQ = -1
STAMP = "bench"  # the key of ``msg`` holding ``[seq, sent_ns]``


@dataclass(frozen=True)
class Template:
    """One sample envelope, ready to stamp: ``frames(seq, sent_ns)`` gives the two wire frames."""

    topic: bytes
    body: bytes  # %-template with four %d: msg_id's seq, i, seq, sent_ns
    cycle: int = 1  # how many templates are cycled
    per_cycle: int = 1  # how many of them share this one's publishing identity
    offset: int = 0  # how many of those come before this one in a cycle

    def frames(self, seq: int, sent_ns: int) -> tuple[bytes, bytes]:
        """The multipart ``[topic, envelope]`` for message ``seq`` sent at ``sent_ns``."""
        i = (seq // self.cycle) * self.per_cycle + self.offset + 1 if seq >= 0 else 0
        return self.topic, self.body % (seq, i, seq, sent_ns)


def load_samples(path: Path = SAMPLES) -> list[dict[str, Any]]:
    """The bundled real fedmsg envelopes, one JSON object per line."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def make_template(envelope: Mapping[str, Any]) -> Template:
    """Pre-render ``envelope`` so that only the stamp remains to be filled in."""
    msg = json.dumps(envelope["msg"]).encode()
    others = {k: v for k, v in envelope.items() if k not in ("msg", "msg_id", "i")}
    rest = json.dumps(others).encode()
    msg_tail = b"}" if msg == b"{}" else b", " + msg[1:]
    body = b'{"msg_id": "bench-%d", "i": %d, "msg": {"bench": [%d, %d]'
    body += (msg_tail + b", " + rest[1:]).replace(b"%", b"%%")
    return Template(topic=str(envelope["topic"]).encode(), body=body)


def identity(envelope: Mapping[str, Any]) -> tuple[str, str, str]:
    """A fedmsg publishing identity, as the hub's gap tracker sees it (``hub/gaps.py``)."""
    prefix = ".".join(str(envelope["topic"]).split(".", 4)[:4])
    return str(envelope.get("username") or ""), str(envelope.get("hostname") or ""), prefix


def make_templates(envelopes: Sequence[Mapping[str, Any]] | None = None) -> list[Template]:
    """Templates for every bundled sample (or for ``envelopes``), in file order, cycled."""
    envelopes = envelopes if envelopes is not None else load_samples()
    keys = [identity(e) for e in envelopes]
    templates = []
    for position, envelope in enumerate(envelopes):
        template = make_template(envelope)
        per_cycle = keys.count(keys[position])
        offset = keys[:position].count(keys[position])
        templates.append(
            replace(template, cycle=len(envelopes), per_cycle=per_cycle, offset=offset)
        )
    return templates


@dataclass(frozen=True)
class AmqpTemplate:
    """One sample's AMQP body, ready to stamp: ``body % (seq, sent_ns)``."""

    topic: str
    body: bytes  # %-template with two %d: seq, sent_ns


def amqp_templates(envelopes: Sequence[Mapping[str, Any]] | None = None) -> list[AmqpTemplate]:
    """An AMQP template per bundled sample (or per ``envelopes``), in file order."""
    templates = []
    for envelope in envelopes if envelopes is not None else load_samples():
        msg = json.dumps(envelope["msg"]).encode()
        tail = b"}" if msg == b"{}" else b", " + msg[1:]
        body = b'{"bench": [%d, %d]' + tail.replace(b"%", b"%%")
        templates.append(AmqpTemplate(str(envelope["topic"]), body))
    return templates
