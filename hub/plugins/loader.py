"""Find, validate and instantiate consumer plugins.

Runs on the main thread at start-up and on reload. A plugin is named in config either as
``module:Class`` or as the name of an entry point in the ``hub.consumers`` group. Every failure
raises one `PluginLoadError` naming the consumer and what is wrong with it.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from hub.config import ConsumerConfig
from hub.consumer import Consumer, HubHandle
from hub.errors import PluginLoadError
from hub.routing.topics import TopicMatcher

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hub.consumers"


@dataclass(frozen=True)
class LoadedConsumer:
    """A consumer instance with its resolved topics and the config it was built from."""

    name: str
    instance: Consumer
    topics: tuple[str, ...]
    matcher: TopicMatcher
    config: ConsumerConfig


def resolve_class(name: str, spec: str) -> type:
    """The class ``spec`` names: ``module:Class`` or an entry point name."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise PluginLoadError(
                f"consumer {name!r}: cannot import module {module_name!r}: {exc}"
            ) from exc
        try:
            return getattr(module, attr)  # type: ignore[no-any-return]
        except AttributeError:
            raise PluginLoadError(
                f"consumer {name!r}: module {module_name!r} has no attribute {attr!r}"
            ) from None
    found = entry_points(group=ENTRY_POINT_GROUP, name=spec)
    if not found:
        known = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
        raise PluginLoadError(
            f"consumer {name!r}: class {spec!r} is neither module:Class nor an entry point in "
            f"group {ENTRY_POINT_GROUP!r} (installed: {', '.join(known) or 'none'})"
        )
    ep = next(iter(found))
    try:
        return ep.load()  # type: ignore[no-any-return]
    except Exception as exc:
        raise PluginLoadError(f"consumer {name!r}: entry point {spec!r} failed: {exc}") from exc


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


def load_consumer(name: str, config: ConsumerConfig, hub: HubHandle) -> LoadedConsumer:
    """Load, validate and instantiate one consumer."""
    cls = resolve_class(name, config.cls)
    if not isinstance(cls, type):
        raise PluginLoadError(f"consumer {name!r}: {config.cls!r} is not a class")
    consume = getattr(cls, "consume", None)
    if not callable(consume) or consume is Consumer.consume:
        raise PluginLoadError(f"consumer {name!r}: class {cls.__name__} has no consume() method")
    topics = check_topics(
        name, config.topics if config.topics is not None else getattr(cls, "topics", None)
    )
    try:
        instance = cls(name, config.config, hub)
    except Exception as exc:
        raise PluginLoadError(f"consumer {name!r}: {cls.__name__}() raised {exc!r}") from exc
    log.debug("loaded consumer %s (%s) topics=%s", name, config.cls, topics)
    return LoadedConsumer(name, instance, topics, TopicMatcher(topics), config)


def load_consumers(configs: dict[str, ConsumerConfig], hub: HubHandle) -> dict[str, LoadedConsumer]:
    """Load every consumer in ``configs`` (already filtered to the enabled ones)."""
    return {name: load_consumer(name, cfg, hub) for name, cfg in configs.items()}
