"""A hub `Message` as the `ArchiveRecord` the archive stores, with the users and packages it
concerns.

Runs on the archive consumer's worker thread(s). `Concerns` asks fedora-messaging's schema
classes (`hub.plugins.schemas`) for ``usernames``, ``packages`` and ``agent_name``, as
datanommer does, when fedora-messaging is installed; without it, or for a message whose class
cannot say, they are empty (counted as ``schema_errors`` by the consumer).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, NamedTuple

from hub.errors import Drop
from hub.message import Message
from hub.storage.archive import ArchiveRecord

log = logging.getLogger(__name__)


class Concerned(NamedTuple):
    """Who and what a message concerns, as its schema class says."""

    usernames: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    agent_name: str | None = None
    failed: bool = False  # its class raised: empty, and counted


NOBODY = Concerned()


class Concerns:
    """Looks the users, packages and agent of a message up in its schema class."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.schemas: Any = None

    def start(self) -> None:
        """Load fedora-messaging's schema registry, when it is installed and wanted."""
        if not self.enabled:
            return
        try:
            import fedora_messaging  # noqa: F401 - only whether it is installed

            from hub.plugins.schemas import Schemas
        except ImportError:
            log.info("fedora-messaging is not installed: messages are archived without users "
                     "and packages")  # fmt: skip
            return
        self.schemas = Schemas()

    def of(self, message: Message) -> Concerned:
        """``message``'s users, packages and agent; empty when no schema class says."""
        if self.schemas is None:
            return NOBODY
        try:
            built = self.schemas.build(message)
        except Drop:  # its body fails its class's schema: archived all the same
            return NOBODY
        try:
            return Concerned(tuple(built.usernames), tuple(built.packages),
                             getattr(built, "agent_name", None))  # fmt: skip
        except Exception as error:  # a schema class misbehaving, as datanommer guards it
            log.warning("archive: the schema class of %s (msg_id %s) cannot name its users or "
                        "packages: %r", message.topic, message.log_id, error)  # fmt: skip
            return Concerned(failed=True)


def record_of(message: Message, concerned: Concerned) -> ArchiveRecord:
    """The record to store for ``message``; raises ValueError or TypeError for one the archive
    cannot hold (its body cannot be written as JSON)."""
    envelope = message.envelope
    sent = message.timestamp if message.timestamp is not None else message.received_at
    headers = envelope.get("headers")
    index = envelope.get("i")
    return ArchiveRecord(
        topic=message.topic,
        body=message.body,
        timestamp=dt.datetime.fromtimestamp(sent, tz=dt.UTC),
        msg_id=message.msg_id,
        headers=dict(headers) if isinstance(headers, dict) else None,
        certificate=_text(envelope.get("certificate")),
        signature=_text(envelope.get("signature")),
        crypto=_text(envelope.get("crypto")),
        usernames=concerned.usernames,
        packages=concerned.packages,
        agent_name=concerned.agent_name,
        i=index if isinstance(index, int) and not isinstance(index, bool) else 0,
        source_name=_text(envelope.get("source_name")),
        source_version=_text(envelope.get("source_version")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
