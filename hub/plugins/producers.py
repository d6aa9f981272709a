"""Find, validate and instantiate producer plugins: `hub.Producer` subclasses and moksha ones.

Runs on the main thread at start-up (the reactor thread, before ``reactor.run``'s first turn
has anything else to do: see `hub.plugins.moksha_producer` for why that matters). A producer is
named in config as ``module:Class`` or by the name of an entry point in the ``hub.producers``
group, else in moksha's ``moksha.producer`` group. A `hub.Producer` runs as it is; a moksha
``Producer``/``PollingProducer`` runs inside `hub.plugins.moksha_producer`. Every failure raises
one `PluginLoadError` naming the producer and what is wrong with it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.config import ProducerConfig
from hub.consumer import HubHandle
from hub.errors import PluginLoadError
from hub.plugins.kinds import Kind
from hub.plugins.loader import resolve_class
from hub.producer import Producer

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hub.producers"
MOKSHA_GROUP = "moksha.producer"  # moksha-hub's
GROUPS = (ENTRY_POINT_GROUP, MOKSHA_GROUP)
MOKSHA_PRODUCER_BASE = "moksha.hub.api.producer.Producer"


@dataclass(frozen=True)
class LoadedProducer:
    """A producer instance with its schedule and the config it was built from."""

    name: str
    instance: Producer
    interval: float  # seconds, start to start
    stuck_after_s: float  # a poll running longer than this is stuck
    now: bool  # poll once at start
    config: ProducerConfig
    kind: Kind = Kind.HUB
    found: str = ""  # how ``class:`` was found: "module:Class" or "entry point GROUP:NAME"


def producer_kind(name: str, target: Any) -> Kind:
    """`Kind.HUB` or `Kind.MOKSHA` for ``target``; `PluginLoadError` if it is neither."""
    if isinstance(target, type):
        if issubclass(target, Producer):
            return Kind.HUB
        if MOKSHA_PRODUCER_BASE in {f"{c.__module__}.{c.__qualname__}" for c in target.__mro__}:
            return Kind.MOKSHA
    raise PluginLoadError(
        f"producer {name!r}: {target!r} is neither a hub.Producer nor a moksha producer class"
    )


def load_producer(
    name: str, config: ProducerConfig, hub: HubHandle, fedmsg: Mapping[str, Any] | None = None
) -> LoadedProducer:
    """Load, validate and instantiate one producer (``fedmsg``: the resolved ``fedmsg:``
    section a moksha producer gets as ``hub.config``)."""
    target, found = resolve_class(name, config.cls, GROUPS, what="producer")
    kind = producer_kind(name, target)
    instance, own_interval, now = _instance(name, config, hub, target, kind, fedmsg or {})
    interval = config.interval_s if config.interval_s is not None else own_interval
    if not isinstance(interval, int | float) or isinstance(interval, bool) or interval <= 0:
        raise PluginLoadError(
            f"producer {name!r}: interval is {interval!r}: set interval (seconds) on the class "
            "or interval_s in its config"
        )
    stuck = config.stuck_after_s if config.stuck_after_s is not None else float(interval)
    loaded = LoadedProducer(name, instance, float(interval), stuck, now, config, kind, found)
    log.debug("loaded producer %s (%s, %s) every %.3f s", name, kind, found, interval)
    return loaded


def _instance(name: str, config: ProducerConfig, hub: HubHandle, target: Any, kind: Kind,
              fedmsg: Mapping[str, Any]) -> tuple[Producer, Any, bool]:  # fmt: skip
    """The `hub.Producer` that runs ``target``, the interval it asks for and its ``now``."""
    if kind is Kind.MOKSHA:
        from hub.plugins import moksha_producer

        return moksha_producer.adapt(name, config.config, hub, target, fedmsg)
    poll = getattr(target, "poll", None)
    if not callable(poll) or poll is Producer.poll:
        raise PluginLoadError(f"producer {name!r}: class {target.__name__} has no poll() method")
    try:
        instance: Producer = target(name, config.config, hub)
    except Exception as exc:
        raise PluginLoadError(f"producer {name!r}: {target.__name__}() raised {exc!r}") from exc
    return instance, target.interval, bool(target.now)


def load_producers(
    configs: Mapping[str, ProducerConfig], hub: HubHandle, fedmsg: Mapping[str, Any] | None = None
) -> dict[str, LoadedProducer]:
    """Load every producer in ``configs`` (already filtered to the enabled ones)."""
    return {name: load_producer(name, cfg, hub, fedmsg) for name, cfg in configs.items()}
