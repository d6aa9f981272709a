"""`RecorderConsumer`: appends one JSON line per message to a file.

Runs on its worker thread(s); the file is opened in ``setup()`` and closed in ``teardown()`` on
those threads. Useful as an audit trail, and as the observable end of end-to-end tests.

config:
    path: the file to append to (required)
    delay_s: sleep this long per message (default 0: none)
    fail_topics: glob patterns whose messages raise RuntimeError (to exercise failure paths)
"""

from __future__ import annotations

import threading
import time
from typing import IO, Any

import orjson

from hub import Consumer, Message
from hub.routing.topics import TopicMatcher


class RecorderConsumer(Consumer):
    """Records topic, msg_id, send time, headers, the body and timings of each message."""

    topics = ["*"]

    def setup(self) -> None:
        self.lock = threading.Lock()
        self.out: IO[bytes] = open(self.config["path"], "ab")  # noqa: SIM115 - closed in teardown
        self.delay_s = float(self.config.get("delay_s", 0))
        fail = self.config.get("fail_topics")
        self.fail = TopicMatcher(fail) if fail else None
        self._write({"event": "setup"})

    def consume(self, message: Message) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail is not None and self.fail.matches(message.topic):
            raise RuntimeError(f"told to fail on {message.topic}")
        self._write(
            {
                "event": "message",
                "consumer": self.name,
                "topic": message.topic,
                "msg_id": message.msg_id,
                "timestamp": message.timestamp,
                "headers": message.envelope.get("headers"),
                "body": message.body,
                "thread": threading.current_thread().name,
                "done_at": time.time(),
            }
        )

    def teardown(self) -> None:
        self._write({"event": "teardown"})
        self.out.close()

    def _write(self, record: dict[str, Any]) -> None:
        line = orjson.dumps(record) + b"\n"
        with self.lock:
            self.out.write(line)
            self.out.flush()
