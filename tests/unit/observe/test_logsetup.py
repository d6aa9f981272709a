"""hub.observe.logsetup: journald priority prefixes, JOURNAL_STREAM detection, levels."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.observe import logsetup
from hub.observe.logsetup import JournalFormatter, LogLevelError


@pytest.fixture
def restore_root() -> Iterator[None]:
    """Put the root logger's handlers and level back after a test that sets up logging."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _record(level: int, msg: str, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("hub.routing.router", level, __file__, 1, msg, (), exc_info)


@pytest.mark.parametrize(
    ("level", "prefix"),
    [
        (logging.DEBUG, "<7>"),
        (logging.INFO, "<6>"),
        (logging.WARNING, "<4>"),
        (logging.ERROR, "<3>"),
        (logging.CRITICAL, "<2>"),
    ],
)
def test_journal_prefix_per_level(level: int, prefix: str) -> None:
    """Each logging level maps to its sd-daemon.h priority prefix and no timestamp."""
    line = JournalFormatter().format(_record(level, "hello"))
    assert line == f"{prefix}[MainThread] hub.routing.router: hello"
    assert not re.search(r"\d\d:\d\d:\d\d", line)


def test_journal_prefixes_every_traceback_line() -> None:
    """A multi-line record (a traceback) carries the prefix on every line for journald."""
    text = JournalFormatter().format(_record(logging.ERROR, "failed", exc=True))
    lines = text.split("\n")
    assert len(lines) > 3
    assert all(line.startswith("<3>") for line in lines)
    assert lines[-1] == "<3>RuntimeError: boom"


def test_journal_stream_must_match_stderr(tmp_path: Path) -> None:
    """JOURNAL_STREAM counts only when its dev:inode is the stream's own file."""
    path = tmp_path / "err.log"
    with path.open("w") as stream:
        st = os.fstat(stream.fileno())
        assert logsetup.journal_stream_matches(
            stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        )
        assert not logsetup.journal_stream_matches(stream, {"JOURNAL_STREAM": "1:2"})
        assert not logsetup.journal_stream_matches(stream, {"JOURNAL_STREAM": "junk"})
        assert not logsetup.journal_stream_matches(stream, {})
    assert not logsetup.journal_stream_matches(io.StringIO(), {"JOURNAL_STREAM": "1:2"})


def test_setup_picks_journal_format(tmp_path: Path, restore_root: None) -> None:
    """With a matching JOURNAL_STREAM but no journal socket to take native entries,
    setup_logging writes prefixed lines to stderr at the chosen level."""
    path = tmp_path / "err.log"
    with path.open("w") as stream:
        st = os.fstat(stream.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        absent = str(tmp_path / "no-journal.sock")
        logsetup.setup_logging("warning", stream=stream, environ=env, journal_socket=absent)
        logging.getLogger("hub.x").info("hidden")
        logging.getLogger("hub.x").warning("shown %d", 7)
    assert path.read_text() == "<4>[MainThread] hub.x: shown 7\n"


def test_setup_human_format_and_replaces_handler(restore_root: None) -> None:
    """Without the journal: timestamps and level names; a second set-up replaces the handler."""
    first, second = io.StringIO(), io.StringIO()
    logsetup.setup_logging("info", stream=first, environ={})
    logsetup.setup_logging("debug", stream=second, environ={})
    logging.getLogger("hub.y").debug("only in second")
    assert first.getvalue() == ""
    pattern = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} DEBUG \[MainThread\] hub.y: only in second$"
    assert re.search(pattern, second.getvalue(), re.MULTILINE)
    logsetup.set_level("error")
    assert logging.getLogger().level == logging.ERROR


def test_parse_level() -> None:
    """Level names are case-insensitive; an unknown one raises LogLevelError."""
    assert logsetup.parse_level("Info") == logging.INFO
    assert logsetup.parse_level(10) == logging.DEBUG
    with pytest.raises(LogLevelError):
        logsetup.parse_level("loud")
