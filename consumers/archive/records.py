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
    """Looks the users, packages and agent of a message up in its schema class.

    Only a message that an installed class claims (by its schema header, or by its topic) is
    looked up: the base ``Message`` names nobody. Among a topic's classes the first whose body
    schema the body passes is used, checked with one compiled validator per class (fedora-
    messaging's own ``validate()`` recompiles and rechecks the schema on every call, ~1 ms)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.schemas: Any = None
        self._base: type | None = None
        self._validators: dict[type, Any] = {}

    def start(self) -> None:
        """Load fedora-messaging's schema registry, when it is installed and wanted."""
        if not self.enabled:
            return
        try:
            from fedora_messaging import message as fm

            from hub.plugins.schemas import Schemas
        except ImportError:
            log.info("fedora-messaging is not installed: messages are archived without users "
                     "and packages")  # fmt: skip
            return
        self.schemas, self._base = Schemas(), fm.Message

    def of(self, message: Message) -> Concerned:
        """``message``'s users, packages and agent; empty when no schema class says."""
        if self.schemas is None:
            return NOBODY
        cls = next((c for c in self.schemas.classes(message) if c is not self._base
                    and self._valid(c, message.body)), None)  # fmt: skip
        if cls is None:
            return NOBODY
        from hub.plugins.schemas import headers_of, instance

        try:
            built = instance(cls, message, headers_of(message))
            return Concerned(tuple(built.usernames), tuple(built.packages),
                             getattr(built, "agent_name", None))  # fmt: skip
        except Exception as error:  # a schema class misbehaving, as datanommer guards it
            log.warning("archive: the schema class of %s (msg_id %s) cannot name its users or "
                        "packages: %r", message.topic, message.log_id, error)  # fmt: skip
            return Concerned(failed=True)

    def _valid(self, cls: type, body: Any) -> bool:
        validator = self._validators.get(cls)
        if validator is None:
            import jsonschema

            schema = cls.body_schema  # type: ignore[attr-defined]
            validator = jsonschema.validators.validator_for(schema)(schema)
            self._validators[cls] = validator
        return bool(validator.is_valid(body))


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
