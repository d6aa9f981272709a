"""`Gate`: a test consumer that consumes only as many messages as a file allows.

Runs on its worker thread. The test writes a number to the ``allow`` file; the consumer blocks
inside ``consume()`` (polling the file every 5 ms) until fewer than that many messages are done,
then appends the msg_id to ``path``. So a test can freeze a backlog at an exact size, read every
metric of that frozen state, then let part or all of it drain.
"""

from __future__ import annotations

import time
from pathlib import Path

from hub import Consumer, Message

POLL_S = 0.005


class Gate(Consumer):
    """Consumes message n only once the ``allow`` file holds a number >= n."""

    topics = ["*"]

    def setup(self) -> None:
        self.allow = Path(self.config["allow"])
        self.path = Path(self.config["path"])
        self.done = 0

    def consume(self, message: Message) -> None:
        while self.done >= self._allowed():
            time.sleep(POLL_S)
        self.done += 1
        with self.path.open("a") as out:
            out.write(f"{message.msg_id}\n")

    def _allowed(self) -> int:
        try:
            return int(self.allow.read_text() or 0)
        except (OSError, ValueError):
            return 0
