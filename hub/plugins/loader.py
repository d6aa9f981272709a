"""Find, validate and instantiate consumer plugins, of every kind (`hub.plugins.kinds`).

Runs on the main thread at start-up and on reload. A plugin is named in config either as
``module:Class`` (or ``module:function`` for a fedora-messaging callback) or as the name of an
entry point in the ``hub.consumers`` group, else in fedmsg-hub's ``moksha.consumer`` group. A
`hub.Consumer` runs as it is; a fedmsg or moksha class runs inside `hub.plugins.moksha`, a
callback inside `hub.plugins.callback`. Every failure raises one `PluginLoadError` naming the
consumer and what is wrong with it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from hub.config import ConsumerConfig
from hub.consumer import Consumer, HubHandle
from hub.errors import PluginLoadError
from hub.plugins.kinds import Kind, kind_of
from hub.routing.topics import TopicMatcher

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hub.consumers"
MOKSHA_GROUP = "moksha.consumer"  # fedmsg-hub's
GROUPS = (ENTRY_POINT_GROUP, MOKSHA_GROUP)


@dataclass(frozen=True)
class LoadedConsumer:
    """A consumer instance with its resolved topics and the config it was built from."""

    name: str
    instance: Consumer
    topics: tuple[str, ...]
    matcher: TopicMatcher
    config: ConsumerConfig
    kind: Kind = Kind.HUB
    found: str = ""  # how ``class:`` was found: "module:Class" or "entry point GROUP:NAME"


def resolve_class(
    name: str, spec: str, groups: tuple[str, ...] = GROUPS, what: str = "consumer"
) -> tuple[Any, str]:
    """The object ``spec`` names (``module:attr`` or an entry point in one of ``groups``), and
    how it was found; ``what`` (consumer, producer) names the plugin in errors."""
    if ":" in spec:
        return _attribute(name, spec, what), spec
    for group in groups:
        found = entry_points(group=group, name=spec)
        if found:
            ep = next(iter(found))
            try:
                return ep.load(), f"entry point {group}:{spec} ({ep.value})"
            except Exception as exc:
                raise PluginLoadError(
                    f"{what} {name!r}: entry point {spec!r} failed: {exc}"
                ) from exc
    known = sorted(f"{ep.name}" for group in groups for ep in entry_points(group=group))
    raise PluginLoadError(
        f"{what} {name!r}: class {spec!r} is neither module:Class nor an entry point in "
        f"{' or '.join(groups)} (installed: {', '.join(known) or 'none'})"
    )


def _attribute(name: str, spec: str, what: str) -> Any:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise PluginLoadError(
            f"{what} {name!r}: cannot import module {module_name!r}: {exc}"
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise PluginLoadError(
            f"{what} {name!r}: module {module_name!r} has no attribute {attr!r}"
        ) from None


def check_topics(name: str, topics: Any) -> tuple[str, ...]:
    """Validate a ``topics`` value: a non-empty list of non-empty strings."""
    if isinstance(topics, str) or not isinstance(topics, list | tuple):
        raise PluginLoadError(
            f"consumer {name!r}: topics must be a list of glob patterns, got {topics!r}"
        )
    if not topics:
        raise PluginLoadError(f"consumer {name!r}: topics is empty; use ['*'] for every topic")
    if not all(isinstance(t, str) and t for t in topics):
        raise PluginLoadError(f"consumer {name!r}: every topic must be a non-empty string")
    return tuple(topics)


def load_consumer(
    name: str, config: ConsumerConfig, hub: HubHandle, fedmsg: Mapping[str, Any] | None = None
) -> LoadedConsumer:
    """Load, validate and instantiate one consumer (``fedmsg``: the resolved fedmsg config
    fedmsg and moksha consumers get as ``hub.config``)."""
    target, found = resolve_class(name, config.cls)
    kind = kind_of(name, target)
    instance, default_topics = _instance(name, config, hub, target, kind, fedmsg or {})
    topics = check_topics(name, config.topics if config.topics is not None else default_topics)
    log.debug("loaded consumer %s (%s, %s) topics=%s", name, kind, found, topics)
    return LoadedConsumer(name, instance, topics, TopicMatcher(topics), config, kind, found)


def _instance(name: str, config: ConsumerConfig, hub: HubHandle, target: Any, kind: Kind,
              fedmsg: Mapping[str, Any]) -> tuple[Consumer, Any]:  # fmt: skip
    """The `hub.Consumer` that runs ``target``, and the topics it asks for by default."""
    if kind is Kind.HUB:
        _check_methods(name, config, target)
        try:
            return target(name, config.config, hub), getattr(target, "topics", None)
        except Exception as exc:
            raise PluginLoadError(f"consumer {name!r}: {target.__name__}() raised {exc!r}") from exc
    if kind in (Kind.FEDMSG, Kind.MOKSHA):
        from hub.plugins import moksha

        built = moksha.build(name, target, fedmsg, hub)
        adapter = moksha.MokshaConsumer(name, config.config, hub, target=built,
                                        fedmsg=kind is Kind.FEDMSG)  # fmt: skip
        return adapter, moksha.topics_of(target)
    from hub.plugins.callback import CallbackConsumer

    if config.topics is None:
        raise PluginLoadError(f"consumer {name!r}: a fedora-messaging callback has no topics of "
                              "its own: set topics (the bindings of its queue)")  # fmt: skip
    return CallbackConsumer(name, config.config, hub, target=target), None


def _check_methods(name: str, config: ConsumerConfig, target: Any) -> None:
    """A `hub.Consumer` class needs ``consume()`` or ``consume_batch()``; ``batch_size`` is only
    for one with ``consume_batch()``."""
    own = {
        method
        for method in ("consume", "consume_batch")
        if callable(got := getattr(target, method, None)) and got is not getattr(Consumer, method)
    }
    if not own:
        raise PluginLoadError(
            f"consumer {name!r}: class {target.__name__} has no consume() or consume_batch() method"
        )
    if config.batch_size is not None and "consume_batch" not in own:
        raise PluginLoadError(f"consumer {name!r}: batch_size is set, but class "
                              f"{target.__name__} has no consume_batch() method")  # fmt: skip


def load_consumers(
    configs: dict[str, ConsumerConfig], hub: HubHandle, fedmsg: Mapping[str, Any] | None = None
) -> dict[str, LoadedConsumer]:
    """Load every consumer in ``configs`` (already filtered to the enabled ones)."""
    loaded = {name: load_consumer(name, cfg, hub, fedmsg) for name, cfg in configs.items()}
    callbacks = {n: c.config.config for n, c in loaded.items() if c.kind is Kind.CALLBACK}
    if len({repr(sorted(c.items())) for c in callbacks.values()}) > 1:
        raise PluginLoadError(
            f"consumers {', '.join(sorted(callbacks))}: fedora-messaging callbacks share one "
            "consumer_config per process: give them the same config:, or run them in two hubs"
        )
    return loaded
