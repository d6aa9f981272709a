"""The producer contract: subclass `Producer`, set ``interval``, write ``poll()``.

``__init__`` runs on the main thread when the hub loads plugins; ``setup``, ``poll`` and
``teardown`` run on the producer's own named thread (``producer:<name>``, as a consumer's run on
``consumer:<name>:<n>``), never on the reactor nor in Twisted's thread pool.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from hub.consumer import HubHandle


class Producer:
    """Base class of producer plugins: code that runs on a schedule and publishes.

    Class attributes:
        interval: seconds from the start of one ``poll()`` to the start of the next. The
            ``interval_s`` key of the producer's config, when set, replaces it.
        now: poll once as soon as the producer starts (default), else one interval later.

    Instance attributes, set by the hub before ``setup()``:
        name: the producer's name in the configuration.
        config: the producer's ``config:`` mapping (read-only).
        hub: a `hub.consumer.HubHandle`; ``self.hub.publish(topic, body)`` is safe from any
            thread.
        log: a logger named ``producers.<name>``.

    Do not override ``__init__``; do start-up work in ``setup()``.
    """

    interval: ClassVar[float] = 0.0
    now: ClassVar[bool] = True

    def __init__(self, name: str, config: dict[str, Any], hub: HubHandle) -> None:
        self.name = name
        self.config = config
        self.hub = hub
        self.log = logging.getLogger(f"producers.{name}")

    def setup(self) -> None:
        """Called once, on the producer's own thread, before the first ``poll()``."""

    def poll(self) -> None:
        """Do one round of work (publish with ``self.hub.publish``).

        An exception is logged with the producer's name and traceback and counted as a
        failure; the schedule goes on. A poll still running after its interval (or
        ``stuck_after_s``) is reported as stuck; the next one starts when it returns.
        """
        raise NotImplementedError

    def teardown(self) -> None:
        """Called once on shutdown, after the last ``poll()``, on the producer's own thread."""
