"""moksha producer classes (``PollingProducer``, and ``Producer`` with a ``poll()``), run
unchanged on the producer's own named thread.

Built on the main thread at start-up, which is also the reactor thread before the reactor has
anything else to do; ``poll`` and ``stop`` then run on the producer's thread
(``producer:<name>``), driven by `hub.workers.producer` on the hub's own schedule.

moksha's ``PollingProducer.__init__`` ends with
``moksha.hub.reactor.reactor.callInThread(self._work)``: moksha's own loop (sleeping in steps of
up to 5 s, polling, never reporting a death) in Twisted's shared thread pool. `adapt` builds the
instance while that reactor object's ``callInThread`` is replaced by `_Holder`, which records the
``_work`` of the instance being built and passes every other call on; the original is put back
before `adapt` returns. This is safe because construction happens synchronously, on the one
thread that runs start-up, before any producer or consumer thread exists that could call
``callInThread`` meanwhile (and any other call is forwarded anyway). ``_work`` is never run: the
hub calls ``_poll()`` itself (moksha's own wrapper: ``_last_ran``, ``_exception_count``).

The schedule follows moksha's: ``frequency`` in seconds or as a ``timedelta`` (converted as
moksha converts it), ``now`` polls once at start. A ``frequency`` of 0 or None (moksha: poll
in a busy loop) is refused unless ``interval_s`` is set. The instance gets a
`hub.plugins.moksha.MokshaHub` as ``hub``: ``config`` is the ``fedmsg:`` section with
``moksha.blocking_mode`` on, ``send_message(topic, msg)`` is ``hub.publish()``.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from hub.consumer import HubHandle
from hub.errors import PluginLoadError
from hub.plugins.moksha import MokshaHub
from hub.producer import Producer


class _Holder:
    """Stands in for ``reactor.callInThread`` while one moksha producer is built."""

    def __init__(self, cls: type, original: Any) -> None:
        self.cls = cls
        self.original = original
        self.held: list[Any] = []

    def __call__(self, call: Any, *args: Any, **kwargs: Any) -> None:
        owner = getattr(call, "__self__", None)
        if getattr(call, "__name__", "") == "_work" and isinstance(owner, self.cls):
            self.held.append(call)  # moksha's own polling loop: the hub drives poll() instead
            return
        self.original(call, *args, **kwargs)


def build(name: str, cls: type, fedmsg: Mapping[str, Any], hub: HubHandle) -> tuple[Any, int]:
    """An instance of ``cls`` and how many ``_work`` loops its ``__init__`` asked for (held)."""
    config = copy.deepcopy(dict(fedmsg))
    config["moksha.blocking_mode"] = True
    reactor = importlib.import_module("moksha.hub.reactor").reactor
    own = vars(reactor).get("callInThread")  # normally absent: the method is the class's
    holder = _Holder(cls, reactor.callInThread)
    reactor.callInThread = holder
    try:
        instance = cls(MokshaHub(config, hub.publish))
    except Exception as exc:
        raise PluginLoadError(f"producer {name!r}: {cls.__name__}(hub) raised {exc!r}") from exc
    finally:
        if own is None:
            del reactor.callInThread
        else:
            reactor.callInThread = own
    if not getattr(instance, "_initialized", False):
        raise PluginLoadError(f"producer {name!r}: {cls.__name__}(hub) did not finish "
                              "initialising (moksha's Producer.__init__ was not run)")  # fmt: skip
    return instance, len(holder.held)


def seconds(frequency: Any) -> float:
    """moksha's ``frequency`` in seconds (a number, or a ``timedelta`` as moksha converts it)."""
    if isinstance(frequency, timedelta):
        return frequency.days * 86400 + frequency.seconds + frequency.microseconds / 1e6
    if isinstance(frequency, int | float) and not isinstance(frequency, bool):
        return float(frequency)
    return 0.0


class MokshaProducer(Producer):
    """A `hub.Producer` running one moksha producer instance."""

    def __init__(self, name: str, config: dict[str, Any], hub: HubHandle, *, target: Any,
                 held: int) -> None:  # fmt: skip
        super().__init__(name, config, hub)
        self.target = target
        self.held = held  # moksha loops kept out of Twisted's thread pool

    def poll(self) -> None:
        run = getattr(self.target, "_poll", None) or self.target.poll
        run()

    def teardown(self) -> None:
        self.target.stop()  # PollingProducer: sets die; Producer: closes its hub (a no-op)

    def figures(self) -> dict[str, Any]:
        """For /status: the moksha loops held back from Twisted's pool."""
        return {"moksha_loops_held": self.held}


def adapt(name: str, config: dict[str, Any], hub: HubHandle, cls: type,
          fedmsg: Mapping[str, Any]) -> tuple[MokshaProducer, float, bool]:  # fmt: skip
    """The adapter running ``cls``, its interval in seconds (0: none set) and ``now``."""
    if not callable(getattr(cls, "poll", None)):
        raise PluginLoadError(f"producer {name!r}: {cls.__name__} has no poll(): the hub runs "
                              "moksha producers by calling poll() on their frequency")  # fmt: skip
    target, held = build(name, cls, fedmsg, hub)
    adapter = MokshaProducer(name, config, hub, target=target, held=held)
    return adapter, seconds(getattr(target, "frequency", None)), bool(getattr(target, "now", False))
