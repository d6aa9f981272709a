"""Logging set-up: one handler on stderr, journald-aware.

Thread: main (`setup_logging` runs once at start-up, before the reactor and the workers start;
`set_level` runs on reload). The handler it installs is the stdlib's, safe from any thread.

Under systemd, stderr is a stream to journald and ``$JOURNAL_STREAM`` holds its ``dev:inode``
(see sd-daemon(3) and systemd.exec(5)). When it matches our stderr, every line starts with a
``<N>`` syslog priority from sd-daemon.h so journald files it at the right level, and carries no
timestamp of its own (journald adds one). Otherwise (a terminal, a pipe, a test) lines get a
human format with timestamps.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

log = logging.getLogger(__name__)

# sd-daemon.h: SD_EMERG "<0>" ... SD_CRIT "<2>", SD_ERR "<3>", SD_WARNING "<4>",
# SD_NOTICE "<5>", SD_INFO "<6>", SD_DEBUG "<7>".
SD_CRIT, SD_ERR, SD_WARNING, SD_NOTICE, SD_INFO, SD_DEBUG = 2, 3, 4, 5, 6, 7

HUMAN_FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"
JOURNAL_FORMAT = "[%(threadName)s] %(name)s: %(message)s"


class LogLevelError(ValueError):
    """A log level name that logging does not know."""


def syslog_priority(levelno: int) -> int:
    """Map a logging level number to an sd-daemon.h priority."""
    if levelno >= logging.CRITICAL:
        return SD_CRIT
    if levelno >= logging.ERROR:
        return SD_ERR
    if levelno >= logging.WARNING:
        return SD_WARNING
    if levelno >= logging.INFO:
        return SD_INFO
    return SD_DEBUG


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
) -> logging.Handler:
    """Install one stderr handler on the root logger, journald format if stderr is the journal."""
    out = sys.stderr if stream is None else stream
    journal = journal_stream_matches(out, environ)
    handler = _HubHandler(out)
    handler.setFormatter(JournalFormatter() if journal else logging.Formatter(HUMAN_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _HubHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(parse_level(level))
    logging.captureWarnings(True)
    log.debug("logging to %s at level %s", "journald" if journal else "stderr", level)
    return handler


def set_level(level: str | int) -> None:
    """Change the root level (on reload)."""
    logging.getLogger().setLevel(parse_level(level))
