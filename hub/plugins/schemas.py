"""A hub `Message` as the ``fedora_messaging.message.Message`` of its schema class.

Runs on a consumer's worker thread(s) (``build``, once per message); the topic table is built
once, under a lock, on first use. Imports fedora-messaging only when a callback consumer is
loaded.

Which class (fedora-messaging's registry: the ``fedora.messages`` entry points):
- a message that names its schema (AMQP: the ``fedora_messaging_schema`` header) gets that
  class; a schema not installed gets the base ``Message``, counted as ``schema_unknown`` and
  logged once per name (as fedora-messaging falls back, with a warning);
- a message that names none (fedmsg over ZeroMQ) gets the first class, by entry-point name,
  whose ``topic`` its topic is or ends with (``org.fedoraproject.prod.bodhi.update.comment`` ->
  ``bodhi.update.comment``) and whose schema its body passes; none: the base ``Message``.

Its properties are the message's own: ``message_id`` is the msg_id, ``sent-at`` its timestamp,
the other headers as they came. A body its class refuses raises `hub.Drop` (logged by the hub,
counted as dropped and as ``schema_invalid``), as fedora-messaging drops what fails validation.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import threading
from collections import Counter
from importlib.metadata import entry_points
from typing import Any

import pika

from hub.errors import Drop
from hub.message import Message

log = logging.getLogger(__name__)


class Schemas:
    """Builds fedora-messaging messages; counts unknown and refused schemas (any thread)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._by_topic: list[tuple[str, list[type]]] | None = None
        self._unknown: set[str] = set()
        self._lock = threading.Lock()

    def build(self, message: Message) -> Any:
        """The schema object for ``message``; `Drop` when its body fails the schema."""
        headers = headers_of(message)
        candidates = self.classes(message)
        error: Exception | None = None
        for cls in candidates:
            built = instance(cls, message, headers)
            try:
                built.validate()
            except Exception as exc:  # jsonschema's ValidationError, or the class's own
                error = error or exc
                continue
            built.queue = None  # the loader does not know the AMQP queue's name
            return built
        self.counts["schema_invalid"] += 1
        first = str(error).splitlines()[0] if error is not None else "no schema"
        raise Drop(f"its body fails schema {_name(candidates[0])}: {first}")

    def classes(self, message: Message) -> list[type]:
        """The classes ``message`` may be, in the order they are tried (the base ``Message``
        alone when no installed class claims it)."""
        schema = headers_of(message).get("fedora_messaging_schema")
        return [self._named(schema)] if isinstance(schema, str) else self._for(message)

    def _named(self, schema: str) -> type:
        from fedora_messaging import message as fm

        cls: type = fm.get_class(schema)
        if cls is fm.Message and schema != "base.message":
            self.counts["schema_unknown"] += 1
            with self._lock:
                fresh = schema not in self._unknown
                self._unknown.add(schema)
            if fresh:
                log.warning("schema %r is not installed: its messages get the base Message", schema)
        return cls

    def _for(self, message: Message) -> list[type]:
        from fedora_messaging import message as fm

        topic = message.topic
        for suffix, classes in self._table():
            if topic == suffix or topic.endswith(f".{suffix}"):
                return classes
        return [fm.Message]

    def _table(self) -> list[tuple[str, list[type]]]:
        """(class topic, its classes by entry-point name), longest topic first."""
        with self._lock:
            if self._by_topic is None:
                found: dict[str, list[type]] = {}
                for ep in sorted(entry_points(group="fedora.messages"), key=lambda e: e.name):
                    cls = ep.load()
                    topic = getattr(cls, "topic", None)
                    if isinstance(topic, str) and topic:
                        found.setdefault(topic, []).append(cls)
                self._by_topic = sorted(found.items(), key=lambda kv: -len(kv[0]))
            return self._by_topic


def headers_of(message: Message) -> dict[str, Any]:
    """A copy of the message's headers ({} when it has none)."""
    given = message.envelope.get("headers")
    return dict(given) if isinstance(given, dict) else {}


def instance(cls: type, message: Message, headers: dict[str, Any]) -> Any:
    """``message`` as an instance of schema class ``cls`` (not validated)."""
    from fedora_messaging import message as fm

    headers.setdefault("fedora_messaging_schema", fm.get_name(cls))
    when = message.timestamp
    if when is not None:
        sent = dt.datetime.fromtimestamp(when, tz=dt.UTC).replace(microsecond=0)
        headers.setdefault("sent-at", sent.isoformat())
    headers.setdefault("fedora_messaging_severity", getattr(cls, "severity", fm.INFO))
    properties = pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8", delivery_mode=2,
        headers=headers, message_id=message.msg_id,
    )  # fmt: skip
    return cls(body=copy.deepcopy(message.body), topic=message.topic, properties=properties)


def _name(cls: type) -> str:
    from fedora_messaging import message as fm

    return str(fm.get_name(cls))
