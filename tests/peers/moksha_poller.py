"""A moksha ``PollingProducer`` as a moksha-hub site writes one.

Runs on the hub's producer thread (``__init__`` on the main thread, as under moksha-hub). The
settings come from ``self.hub.config`` (the hub's ``fedmsg:`` section); each poll sends
``org.test.poller.tick`` with ``send_message``, saying which thread it ran on, so a test can
tell the hub's named thread from Twisted's pool.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import moksha.hub.api.producer


class TickPoller(moksha.hub.api.producer.PollingProducer):  # type: ignore[misc]
    frequency = timedelta(milliseconds=200)
    now = True

    def __init__(self, hub: Any) -> None:
        super().__init__(hub)
        self.prefix = self.hub.config.get("hubtest.poller.prefix", "org.test.poller")
        self.count = 0

    def poll(self) -> None:
        self.count += 1
        self.send_message(
            f"{self.prefix}.tick",
            {"n": self.count, "thread": threading.current_thread().name, "at": time.time()},
        )
