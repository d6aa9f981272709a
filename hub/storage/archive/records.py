"""What the archive stores of one message: `ArchiveRecord`, and the values derived from it
exactly as datanommer.models 1.5.0 derives them (`category`), or as it needs them (naive UTC
timestamps, a msg_id when the publisher sent none).

Built by the archive consumer and read on its worker thread; records are immutable and may be
handed between threads.
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Any

UNCLASSIFIED = "Unclassified"
_MSG_ID_NAMESPACE = uuid.UUID("0d4f5a7e-6a2c-4c8e-9a51-1f1b1e0c2a77")  # ours, fixed forever


@dataclass(frozen=True, slots=True)
class ArchiveRecord:
    """One message to archive. ``timestamp`` is when it was sent (aware, or naive meaning UTC);
    ``usernames`` and ``packages`` are the names it concerns (from fedora-messaging's schema
    classes where the consumer has them, empty otherwise). ``msg_id`` None: see `record_msg_id`.
    ``i``, ``source_name`` and ``source_version`` are the fedmsg envelope's, when it had them."""

    topic: str
    body: dict[str, Any]
    timestamp: datetime.datetime
    msg_id: str | None = None
    headers: dict[str, Any] | None = None
    certificate: str | None = None
    signature: str | None = None
    crypto: str | None = None
    usernames: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    agent_name: str | None = None
    i: int = 0
    source_name: str | None = None
    source_version: str | None = None


def category(topic: str) -> str:
    """The topic's category as datanommer computes it: the fourth dot-separated part (the third
    when the topic contains ``VirtualTopic``), or ``Unclassified`` when there is none."""
    index = 2 if "VirtualTopic" in topic else 3
    parts = topic.split(".")
    return parts[index] if len(parts) > index else UNCLASSIFIED


def naive_utc(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` as naive UTC, how datanommer's ``timestamp`` columns hold it (naive: as is)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def record_msg_id(record: ArchiveRecord) -> str:
    """The msg_id to store: the record's, or one derived from its topic, time and body.

    datanommer stores a random uuid4 for a message without one, so a redelivery becomes a second
    row; a uuid5 of the content makes the same message the same row again."""
    if record.msg_id:
        return record.msg_id
    body = json.dumps(record.body, sort_keys=True, separators=(",", ":"))
    when = naive_utc(record.timestamp).isoformat()
    return str(uuid.uuid5(_MSG_ID_NAMESPACE, f"{record.topic}\n{when}\n{body}"))
