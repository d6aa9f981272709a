"""``import-config`` of a ``fedmsg.d/``: the consumers fedmsg-hub would have run.

Runs on the CLI's main thread. fedmsg-hub ran every class registered in the installed
``moksha.consumer`` entry points (found here with `importlib.metadata`) whose ``config_key`` is
true in the fedmsg config. Each one on becomes a consumer named after its entry point, with
``class:`` the entry point's name; each one off is listed in a comment, and one that cannot be
imported is commented with the error. Nothing is instantiated: ``config_key`` and ``topic`` are
read from the class.

moksha subscribed to a consumer's ``topic`` (a string or a list) as a ZeroMQ prefix, after
deleting every ``*`` from it (``zmq_strict: True``: the exact topic instead). Our topics are
globs, so a prefix ``p`` becomes ``p*`` and the empty one ``*``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from hub.cli.import_draft import Draft, glob_literal, unique

log = logging.getLogger(__name__)

MOKSHA_GROUP = "moksha.consumer"
TOPICS_NOTE = (
    "topics: moksha's ZeroMQ prefix subscriptions as globs (a prefix p is p*; '' or '*' is *)."
)


def moksha_entry_points() -> list[EntryPoint]:
    """The installed ``moksha.consumer`` entry points, one per name, sorted by name."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=MOKSHA_GROUP):
        found.setdefault(ep.name, ep)
    return [found[name] for name in sorted(found)]


def add_consumers(config: Mapping[str, Any], draft: Draft) -> None:
    """Add to ``draft`` each consumer whose ``config_key`` is on; note the others."""
    off: list[str] = []
    for ep in moksha_entry_points():
        try:
            loaded = ep.load()
        except Exception as exc:
            log.debug("cannot import %s: %s", ep.value, exc, exc_info=True)
            draft.consumers_notes.append(
                f"{ep.name} ({ep.value}): cannot import: {type(exc).__name__}: {exc}"
            )
            continue
        many = isinstance(loaded, list | tuple)
        for cls in loaded if many else [loaded]:
            name = f"{ep.name}-{cls.__name__}" if many else ep.name
            spec = f"{cls.__module__}:{cls.__qualname__}" if many else ep.name
            if _is_on(cls, config, name, draft):
                draft.consumers[name] = _consumer(cls, spec, config, name, draft)
            elif getattr(cls, "config_key", None):
                off.append(f"{name} ({cls.config_key})")
    if off:
        draft.consumers_notes.append(
            "Off in the fedmsg config (config_key false or unset), so "
            f"not carried: {', '.join(off)}."
        )


def _is_on(cls: Any, config: Mapping[str, Any], name: str, draft: Draft) -> bool:
    key = getattr(cls, "config_key", None)
    if key:
        return bool(config.get(key, False))
    draft.consumers_notes.append(
        f"{name} ({cls.__module__}:{cls.__qualname__}) has no "
        "config_key: not carried (fedmsg consumers need one; a plain "
        "moksha consumer ran always: add it by hand if it did)."
    )
    return False


def _consumer(
    cls: Any, spec: str, config: Mapping[str, Any], name: str, draft: Draft
) -> dict[str, Any]:
    entry: dict[str, Any] = {"class": spec}
    raw = getattr(cls, "topic", None)
    if not raw and raw != "":
        draft.consumer_note(name, "Its class sets no topic (set at run time?): add topics.")
    else:
        strict = bool(config.get("zmq_strict", False))
        topics = [raw] if isinstance(raw, str) else [str(t) for t in raw]
        entry["topics"] = unique([_glob(name, t, strict, draft) for t in topics])
        draft.consumer_note(name, TOPICS_NOTE)
    entry["threads"] = _threads(config, name, draft)
    return entry


def _glob(name: str, topic: str, strict: bool, draft: Draft) -> str:
    """The glob for moksha's subscription to ``topic``."""
    prefix = topic.replace("*", "")
    if strict:
        draft.consumer_note(name, f"zmq_strict: {topic!r} matched exactly {prefix!r}.")
        return glob_literal(prefix) or "*"
    if not prefix:
        return "*"
    inner = topic.rstrip("*")
    if "*" in inner:
        draft.consumer_note(
            name,
            f"{topic!r}: moksha dropped its '*' and subscribed to the "
            f"prefix {prefix!r}; the glob keeps the '*' as written.",
        )
    return "*".join(glob_literal(part) for part in inner.split("*")) + "*"


def _threads(config: Mapping[str, Any], name: str, draft: Draft) -> int:
    if config.get("moksha.blocking_mode", False):
        draft.consumer_note(
            name,
            "moksha.blocking_mode: consumed on the reactor one at a time; "
            "here on 1 thread of its own.",
        )
        return 1
    try:
        threads = int(config.get("moksha.workers_per_consumer", 1))
    except (TypeError, ValueError):
        threads = 1
    return max(threads, 1)
