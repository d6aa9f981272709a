"""`LogConsumer`: one log line per message. Runs on its worker thread(s)."""

from __future__ import annotations

from hub import Consumer, Message


class LogConsumer(Consumer):
    """Logs topic, msg_id and who sent each message.

    config: ``level`` (default INFO).
    """

    topics = ["*"]

    def setup(self) -> None:
        self.level = str(self.config.get("level", "INFO")).upper()

    def consume(self, message: Message) -> None:
        who = message.envelope.get("username") or "-"
        self.log.log(
            _LEVELS.get(self.level, 20), "%s msg_id=%s from %s", message.topic, message.log_id, who
        )


_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30}
