"""Logging set-up: one handler, on stderr or journald's native socket.

Thread: main (`setup_logging` runs once at start-up, before the reactor and the workers start;
`set_level` runs on reload). The handlers it installs are safe from any thread.

Under systemd, stderr is a stream to journald and ``$JOURNAL_STREAM`` holds its ``dev:inode``
(see sd-daemon(3) and systemd.exec(5)). When it matches our stderr, records go to journald as
native entries (`hub.observe.journal.JournalHandler`: a traceback is one entry, with fields), as
``SYSLOG_IDENTIFIER=`` ``$CONSUMER_HUB_SYSLOG_IDENTIFIER`` (the units set it as they set
``SyslogIdentifier=``), else ``consumer-hub``. Should the socket refuse a record, it goes to
stderr with a ``<N>`` sd-daemon.h priority on every line (`JournalFormatter`), no timestamp
(journald adds one). Otherwise (a terminal, a pipe, a test) lines get a human format with
timestamps; a multi-line record stays one write.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from hub.observe.journal import SOCKET_PATH, JournalHandler, syslog_priority

log = logging.getLogger(__name__)

IDENTIFIER_VARIABLE = "CONSUMER_HUB_SYSLOG_IDENTIFIER"
HUMAN_FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"
JOURNAL_FORMAT = "[%(threadName)s] %(name)s: %(message)s"


class LogLevelError(ValueError):
    """A log level name that logging does not know."""


class JournalFormatter(logging.Formatter):
    """Prefixes every line (tracebacks too) with ``<N>``; no timestamp."""

    def __init__(self, fmt: str = JOURNAL_FORMAT) -> None:
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        """Format the record, then prefix each of its lines with its priority."""
        prefix = f"<{syslog_priority(record.levelno)}>"
        text = super().format(record)
        return "\n".join(prefix + line for line in text.split("\n"))


def journal_stream_matches(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when ``$JOURNAL_STREAM`` names the file ``stream`` writes to."""
    env = os.environ if environ is None else environ
    value = env.get("JOURNAL_STREAM", "")
    dev, sep, ino = value.partition(":")
    if not sep:
        return False
    try:
        st = os.fstat(stream.fileno())
        return (st.st_dev, st.st_ino) == (int(dev), int(ino))
    except (OSError, ValueError, AttributeError):
        return False


def parse_level(level: str | int) -> int:
    """A level name (any case) or number -> a logging level number."""
    if isinstance(level, int):
        return level
    value = logging.getLevelName(level.strip().upper())
    if not isinstance(value, int):
        raise LogLevelError(f"unknown log level {level!r} (want debug, info, warning or error)")
    return value


class _HubHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler we installed, so a second set-up replaces it."""


def setup_logging(
    level: str | int = "info",
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    journal_socket: str = SOCKET_PATH,
) -> logging.Handler:
    """Install our one handler on the root logger: journald's native protocol when stderr is
    the journal (``journal_socket``: where journald listens), else the stream."""
    out = sys.stderr if stream is None else stream
    env = os.environ if environ is None else environ
    journal = journal_stream_matches(out, env)
    handler: logging.Handler = _HubHandler(out)
    if journal:
        handler.setFormatter(JournalFormatter())
        identifier = env.get(IDENTIFIER_VARIABLE) or "consumer-hub"
        handler = JournalHandler(identifier, handler, journal_socket)
        handler.setFormatter(logging.Formatter(JOURNAL_FORMAT))
    else:
        handler.setFormatter(logging.Formatter(HUMAN_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _HubHandler | JournalHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(parse_level(level))
    logging.captureWarnings(True)
    log.debug("logging to %s at level %s", "journald" if journal else "stderr", level)
    return handler


def set_level(level: str | int) -> None:
    """Change the root level (on reload)."""
    logging.getLogger().setLevel(parse_level(level))
