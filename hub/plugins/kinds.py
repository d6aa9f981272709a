"""Which kind of consumer a configured ``class:`` is, detected from the object itself.

Runs on the main thread at load (and on the reactor at reload). Detection looks at the class's
ancestry by module and name, so telling a fedmsg consumer from a moksha one never imports
fedmsg or moksha: a hub without them installed still loads its own consumers.

- `Kind.HUB`: a `hub.Consumer` subclass (``consume(message)`` with a `hub.Message`);
- `Kind.FEDMSG`: a ``fedmsg.consumers.FedmsgConsumer`` subclass (fedmsg-hub's);
- `Kind.MOKSHA`: any other ``moksha.hub.api.consumer.Consumer`` subclass;
- `Kind.CALLBACK`: anything else callable: a fedora-messaging callback (a function, or a class
  instantiated once and then called, with one ``fedora_messaging.message.Message``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from hub.consumer import Consumer
from hub.errors import PluginLoadError

FEDMSG_BASE = "fedmsg.consumers.FedmsgConsumer"
MOKSHA_BASE = "moksha.hub.api.consumer.Consumer"


class Kind(StrEnum):
    """What a consumer is, as ``consumer-hub check`` and /status name it."""

    HUB = "hub"
    FEDMSG = "fedmsg"
    MOKSHA = "moksha"
    CALLBACK = "fedora-messaging"


def kind_of(name: str, target: Any) -> Kind:
    """The kind of ``target`` (the object ``class:`` names); `PluginLoadError` if none."""
    if isinstance(target, type):
        bases = {f"{c.__module__}.{c.__qualname__}" for c in target.__mro__}
        if issubclass(target, Consumer):
            return Kind.HUB
        if FEDMSG_BASE in bases:
            return Kind.FEDMSG
        if MOKSHA_BASE in bases:
            return Kind.MOKSHA
        if "__call__" in _own(target):  # instances of it are callable
            return Kind.CALLBACK
        raise PluginLoadError(
            f"consumer {name!r}: class {target.__name__} is neither a hub.Consumer, a fedmsg or "
            "moksha consumer, nor a fedora-messaging callback class (it has no __call__)"
        )
    if callable(target):
        return Kind.CALLBACK
    raise PluginLoadError(f"consumer {name!r}: {target!r} is not a class or a callable")


def _own(cls: type) -> set[str]:
    """Attribute names defined by ``cls`` or a base other than ``object``."""
    return {attr for klass in cls.__mro__ if klass is not object for attr in vars(klass)}
