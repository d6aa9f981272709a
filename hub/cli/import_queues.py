"""``import-config`` of fedora-messaging: each consumed queue as a consumer with ``source: amqp``.

Runs on the CLI's main thread. Pure: no I/O. ``fedora-messaging consume`` consumed every queue
of ``[queues.NAME]`` (default: one server-named, exclusive, auto-deleted queue) with the one
``callback``, bound by the ``[[bindings]]`` naming it (``queue`` omitted: the default queue;
default: ``#``). The hub's queue for consumer ``c`` is ``<queue_prefix>.c``, so a queue
``a.b.c`` becomes consumer ``c`` with ``queue_prefix: a.b`` (one prefix for all: the first
dotted queue's); any other name changes, and a comment says to what. Routing keys become topic
globs by `hub.cli.import_bindings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.cli.import_bindings import key_globs
from hub.cli.import_draft import Draft, unique
from hub.errors import ConfigError

DEFAULT_QUEUES: dict[str, Any] = {
    "": {"durable": False, "auto_delete": True, "exclusive": True, "arguments": {}}
}
DEFAULT_BINDINGS: list[dict[str, Any]] = [
    {"queue": "", "exchange": "amq.topic", "routing_keys": ["#"]}
]
HUB_PREFIX = "consumer-hub"  # amqp.queue_prefix's default
NO_CALLBACK = "CHANGE-ME:callback"
HUB_QUEUE = {"durable": True, "auto_delete": False, "exclusive": False}  # what the hub declares


@dataclass
class _Import:
    path: Path
    draft: Draft
    callback: str
    config: dict[str, Any]
    bindings: list[dict[str, Any]]
    prefix: str
    types: dict[str, str] = field(default_factory=dict)  # consumer -> x-queue-type
    exchanges: list[str] = field(default_factory=list)  # of the bindings consumed


def add_consumers(path: Path, data: dict[str, Any], draft: Draft, exchange: str) -> dict[str, Any]:
    """Add a consumer per queue to ``draft``; return the ``amqp:`` keys they decide."""
    queues = _mapping(path, data.get("queues", DEFAULT_QUEUES), "queues")
    callback = data.get("callback")
    if not isinstance(callback, str) or not callback:
        draft.header.append(f"callback is not set: class is {NO_CALLBACK}; set it.")
    run = _Import(
        path,
        draft,
        callback or NO_CALLBACK,
        _mapping(path, data.get("consumer_config", {}), "consumer_config"),
        _bindings(path, data.get("bindings", DEFAULT_BINDINGS)),
        _prefix(queues),
    )
    for queue, settings in queues.items():
        _consumer(run, queue, _mapping(path, settings, f"queues.{queue}"))
    if callback:
        draft.consumers_notes.append(
            "class: fedora-messaging's callback (module:Callable); config: its [consumer_config]."
        )
    unconsumed = sorted({str(b.get("queue", "")) for b in run.bindings} - set(queues))
    if unconsumed:
        draft.not_carried.append(
            f"[[bindings]] of queues not in [queues] ({', '.join(unconsumed)}"
            "): fedora-messaging did not consume them either."
        )
    return {**_prefix_key(run), **_queue_type(run), **_exchange(run, exchange)}


def _consumer(run: _Import, queue: str, settings: dict[str, Any]) -> None:
    name = _name(run, queue)
    entry: dict[str, Any] = {"class": run.callback, "source": "amqp"}
    keys: list[str] = []
    for binding in run.bindings:
        if str(binding.get("queue", "")) == queue:
            keys += binding["routing_keys"]
            run.exchanges.append(str(binding["exchange"]))
    topics = _topics(run, name, keys)
    if topics:
        entry["topics"] = topics
    arguments = dict(_mapping(run.path, settings.get("arguments", {}), f"queues.{queue}"))
    if arguments.pop("x-single-active-consumer", False):
        entry["ordered"] = True
        run.draft.consumer_note(name, "ordered: the queue had x-single-active-consumer.")
    run.types[name] = str(arguments.pop("x-queue-type", "classic"))
    if arguments:
        run.draft.consumer_note(name, f"Queue arguments not carried: {arguments!r}.")
    changed = {k: settings[k] for k in HUB_QUEUE if k in settings and settings[k] != HUB_QUEUE[k]}
    if changed and queue:
        run.draft.consumer_note(
            name,
            f"The queue had {changed!r}; the hub's is durable, not auto-deleted, not exclusive.",
        )
    if run.config:
        entry["config"] = run.config
    run.draft.consumers[name] = entry


def _name(run: _Import, queue: str) -> str:
    """The consumer name for ``queue``, noting when the hub's queue name differs."""
    head, _, tail = queue.rpartition(".")
    name = tail if head and tail else queue
    if not name:
        name = run.callback.rpartition(":")[2].rpartition(".")[2] or "consumer"
    base, n = name, 1
    while name in run.draft.consumers:
        n += 1
        name = f"{base}-{n}"
    hub_queue = f"{run.prefix or HUB_PREFIX}.{name}"
    if not queue:
        run.draft.consumer_note(
            name,
            "fedora-messaging's default queue (server-named, "
            f"exclusive, auto-deleted) becomes the durable {hub_queue}.",
        )
    elif hub_queue != queue:
        run.draft.consumer_note(
            name,
            f"Its queue {queue!r} becomes {hub_queue!r} (the hub's "
            "is <queue_prefix>.<consumer name>).",
        )
    return name


def _topics(run: _Import, name: str, keys: list[str]) -> list[str]:
    if not keys:
        run.draft.consumer_note(name, "No [[bindings]] for its queue: add topics.")
        return []
    globs: list[str] = []
    for key in keys:
        translated = key_globs(str(key))
        globs += translated.globs
        if not translated.globs:
            run.draft.consumer_note(
                name,
                "The empty routing key matches only the empty topic, "
                "which no topic glob can say: dropped.",
            )
        elif not translated.exact:
            run.draft.consumer_note(
                name,
                f"{key!r}: AMQP '*' is exactly one word; the glob "
                f"{' '.join(translated.globs)} also matches more, so it "
                "is broader: the hub delivers what the glob matches.",
            )
    if any("#" in str(k) and k != "#" for k in keys):
        run.draft.consumer_note(
            name,
            "topics: the routing keys as globs (AMQP '#' is zero or more words: a.# is a and a.*).",
        )
    return unique(globs)


def _prefix(queues: dict[str, Any]) -> str:
    for queue in queues:
        head, _, tail = queue.rpartition(".")
        if head and tail:
            return head
    return ""


def _prefix_key(run: _Import) -> dict[str, Any]:
    return {"queue_prefix": run.prefix} if run.prefix else {}


def _queue_type(run: _Import) -> dict[str, Any]:
    kinds = set(run.types.values())
    if kinds == {"quorum"}:
        return {"queue_type": "quorum"}
    odd = sorted(f"{name} ({kind})" for name, kind in run.types.items() if kind != "classic")
    if odd:
        run.draft.note(
            "amqp",
            f"queue_type is one for all consumers: classic; x-queue-type of "
            f"{', '.join(odd)} not carried.",
        )
    return {}


def _exchange(run: _Import, publish_exchange: str) -> dict[str, Any]:
    used = unique(run.exchanges)
    if len(used) == 1 and used[0] != publish_exchange:
        run.draft.note(
            "amqp",
            f"exchange: the bindings' {used[0]!r}; hub.publish() goes there "
            f"too (publish_exchange was {publish_exchange!r}).",
        )
        return {"exchange": used[0]}
    if len(used) > 1:
        run.draft.note(
            "amqp",
            f"The bindings use several exchanges ({', '.join(used)}); the hub "
            f"binds every queue to {publish_exchange!r} only.",
        )
    return {}


def _mapping(path: Path, value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key}: expected a table, got {type(value).__name__}")
    return value


def _bindings(path: Path, value: Any) -> list[dict[str, Any]]:
    """fedora-messaging's ``bindings`` (a table or a list of them), checked as it checks them."""
    bindings = [value] if isinstance(value, dict) else value
    if not isinstance(bindings, list):
        raise ConfigError(f"{path}: bindings: expected a list of tables")
    for i, binding in enumerate(bindings):
        where = f"{path}: bindings[{i}]"
        if not isinstance(binding, dict) or not {"exchange", "routing_keys"} <= set(binding):
            raise ConfigError(f"{where}: expected a table with exchange and routing_keys")
        if not isinstance(binding["routing_keys"], list):
            raise ConfigError(f"{where}: routing_keys: expected a list")
    return bindings
