"""fedmsg and moksha consumer classes, run unchanged on the hub's own threads.

Built on the main thread at load (the class's ``__init__(hub)`` runs there, as under
fedmsg-hub); ``consume`` runs on the consumer's worker thread(s), ``teardown`` on thread 0.

The class gets a `MokshaHub` as its ``hub``: ``config`` is the ``fedmsg:`` section (fedmsg's
defaults, ``config_dir``, inline keys) with ``moksha.blocking_mode`` forced on, so moksha's
``Consumer.__init__`` starts no threads of its own in Twisted's pool (the hub's named threads do
the work); ``subscribe`` is recorded (topics come from the class's ``topic``); ``send_message``
is ``hub.publish()``. A fedmsg consumer whose ``config_key`` is not true in that config stops
half-built (fedmsg-hub skipped it silently): loading it fails, naming the key.

Each message goes through moksha's blocking path, in its order: ``validate`` (a failure drops
the message: logged and counted, as moksha logged it), the envelope's headers into the body (as
``FedmsgConsumer._consume`` does), ``pre_consume``, ``consume`` and always ``post_consume`` (their
errors logged, as moksha does). An exception from ``consume`` is not swallowed as moksha did: it
goes to the hub's retries and dead letters like any consumer's. The message is
``{"topic": ..., "body": <the whole envelope>}``, a deep copy per call (consumers change it).
fedmsg's ``replay_name`` backlog recovery from datagrepper is not run: the durable log replaces it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any

from hub.consumer import Consumer, HubHandle
from hub.errors import Drop, PluginLoadError
from hub.message import Message
from hub.observe.journal import log_fields
from hub.plugins.kinds import FEDMSG_BASE


class MokshaHub:
    """The ``hub`` a moksha or fedmsg consumer is built with (any thread)."""

    def __init__(self, config: dict[str, Any], publish: Callable[[str, Any], None]) -> None:
        self.config = config
        self.publish = publish
        self.subscribed: list[str] = []

    def subscribe(self, topic: str, callback: Any) -> None:
        self.subscribed.append(topic)

    def send_message(self, topic: str, message: Any) -> None:
        self.publish(topic, message)

    def close(self) -> None:
        """moksha's ``Consumer.stop`` closes its hub: nothing to close here."""


def build(name: str, cls: type, fedmsg: Mapping[str, Any], hub: HubHandle) -> Any:
    """An instance of ``cls`` (main thread); `PluginLoadError` if it did not finish building."""
    config = copy.deepcopy(dict(fedmsg))
    config["moksha.blocking_mode"] = True
    key = getattr(cls, "config_key", None)
    if _is_fedmsg(cls) and not config.get(key or "", False):
        raise PluginLoadError(
            f"consumer {name!r}: {cls.__name__} is disabled by its fedmsg config_key {key!r} "
            f"(fedmsg-hub would skip it): set fedmsg: {{{key}: true}}, or enabled: false"
        )
    try:
        instance = cls(MokshaHub(config, hub.publish))
    except Exception as exc:
        raise PluginLoadError(f"consumer {name!r}: {cls.__name__}(hub) raised {exc!r}") from exc
    if not getattr(instance, "_initialized", False):
        raise PluginLoadError(f"consumer {name!r}: {cls.__name__}(hub) did not finish "
                              "initialising (moksha's Consumer.__init__ was not run)")  # fmt: skip
    return instance


def _is_fedmsg(cls: type) -> bool:
    return any(f"{c.__module__}.{c.__qualname__}" == FEDMSG_BASE for c in cls.__mro__)


def topics_of(cls: type) -> list[str]:
    """The class's ``topic`` (a ZeroMQ prefix, or a list) as globs: ``""`` is every topic."""
    given = getattr(cls, "topic", "")
    prefixes = [given] if isinstance(given, str) else list(given)
    return [p if p.endswith("*") else f"{p}*" for p in prefixes if isinstance(p, str)] or ["*"]


class MokshaConsumer(Consumer):
    """A `hub.Consumer` running one moksha or fedmsg consumer instance."""

    def __init__(self, name: str, config: dict[str, Any], hub: HubHandle, *, target: Any,
                 fedmsg: bool) -> None:  # fmt: skip
        super().__init__(name, config, hub)
        self.target = target
        self.fedmsg = fedmsg  # FedmsgConsumer: headers go into the body

    def consume(self, message: Message) -> None:
        msg: dict[str, Any] = {"topic": message.topic, "body": copy.deepcopy(message.envelope)}
        if "headers" in message.envelope:
            msg["headers"] = copy.deepcopy(message.envelope["headers"])
        target = self.target
        try:
            target.validate(msg)
        except Exception as exc:
            raise Drop(f"{type(target).__name__}.validate() refused it: {exc!r}") from None
        if self.fedmsg and "headers" in msg and isinstance(msg["body"], dict):
            msg["body"]["headers"] = msg["headers"]
        self._count()
        self._hook(target.pre_consume, msg, message)
        start = time.time()
        try:
            target.consume(msg)
        except Exception:
            target._exception_count = getattr(target, "_exception_count", 0) + 1
            raise
        finally:
            self._hook(target.post_consume, msg, message)
            times = getattr(target, "_times", None)
            if times is not None:
                times.append(time.time() - start)

    def teardown(self) -> None:
        try:
            self.target.stop()
        except Exception:
            self.log.exception(
                "consumer %s: %s.stop() failed", self.name, type(self.target).__name__
            )

    def _count(self) -> None:
        for attr in ("headcount_in", "headcount_out"):  # what moksha's __json__ reports
            setattr(self.target, attr, getattr(self.target, attr, 0) + 1)

    def _hook(self, call: Callable[[Any], Any], msg: dict[str, Any], message: Message) -> None:
        """``pre_consume`` or ``post_consume``: an error is logged, as moksha logs it."""
        try:
            call(msg)
        except Exception:
            about = log_fields(self.name, message.topic, message.log_id)
            self.log.exception("consumer %s: %s() failed on %s (msg_id %s)", self.name,
                               call.__name__, message.topic, message.log_id,
                               extra=about)  # fmt: skip
