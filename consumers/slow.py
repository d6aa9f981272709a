"""`SlowConsumer`: deliberately slow, to show a backlog build up. Runs on its worker thread(s)."""

from __future__ import annotations

import time

from hub import Consumer, Message


class SlowConsumer(Consumer):
    """Sleeps ``delay_s`` seconds (config, default 0.5) per message, then does nothing."""

    topics = ["*"]

    def consume(self, message: Message) -> None:
        time.sleep(float(self.config.get("delay_s", 0.5)))
