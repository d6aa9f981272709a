"""hub.observe.journal: native journald entries at a real AF_UNIX datagram socket, with fields."""

from __future__ import annotations

import logging
import os
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import Drop, Message
from hub.config import RetryConfig
from hub.observe import journal, logsetup
from hub.observe.journal import log_fields
from hub.workers.delivery import Delivery
from hub.workers.workqueue import Item
from tests.unit.workers.test_worker import DEAD


def parse(datagram: bytes) -> dict[str, str]:
    """Decode one native-protocol datagram (written from systemd's protocol document)."""
    fields: dict[str, str] = {}
    rest = datagram
    while rest:
        line, _, after = rest.partition(b"\n")
        if b"=" in line:
            key, _, value = line.partition(b"=")
            rest = after
        else:
            key, (size,) = line, struct.unpack("<Q", after[:8])
            value, end = after[8 : 8 + size], after[8 + size : 9 + size]
            assert end == b"\n", "a binary field must end with a newline"
            rest = after[9 + size :]
        assert key.decode() not in fields
        fields[key.decode()] = value.decode()
    return fields


class FakeJournal:
    """A bound AF_UNIX datagram socket standing in for /run/systemd/journal/socket."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(5)

    def entry(self) -> dict[str, str]:
        """The next datagram, decoded."""
        return parse(self.sock.recv(1 << 20))

    def pending(self) -> int:
        """How many more datagrams are waiting (without blocking)."""
        count = 0
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(1 << 20)
                count += 1
        except BlockingIOError:
            return count
        finally:
            self.sock.settimeout(5)


@pytest.fixture
def under_systemd(tmp_path: Path) -> Iterator[tuple[FakeJournal, Path]]:
    """Logging set up as under systemd: stderr a file JOURNAL_STREAM names, a fake journal;
    the root logger's handlers and level put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    fake = FakeJournal(tmp_path / "journal.sock")
    err = tmp_path / "stderr"
    with err.open("w") as stream:
        st = os.fstat(stream.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}",
               logsetup.IDENTIFIER_VARIABLE: "consumer-hub@fast"}  # fmt: skip
        handler = logsetup.setup_logging("debug", stream=stream, environ=env,
                                         journal_socket=fake.path)  # fmt: skip
        assert "logging to journald at level debug" in fake.entry()["MESSAGE"]
        yield fake, err
    handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    fake.sock.close()


def _fail() -> None:
    raise ValueError("bad body\nsecond line of the error")


def test_a_traceback_is_one_entry_with_its_fields(under_systemd: tuple[FakeJournal, Path]) -> None:
    """log.exception about a message: one datagram holding the whole traceback (its newlines
    sent in the binary form) and the priority, identifier, code, logger, thread and message
    fields; nothing on stderr."""
    fake, err = under_systemd
    try:
        _fail()
    except ValueError:
        logging.getLogger("hub.workers.delivery").exception(
            "consumer %s failed on %s", "badges", "org.a",
            extra=log_fields("badges", "org.a", "2024-abc"),
        )  # fmt: skip
    entry = fake.entry()
    assert fake.pending() == 0
    message = entry.pop("MESSAGE")
    first = "[MainThread] hub.workers.delivery: consumer badges failed on org.a\n"
    assert message.startswith(first)
    assert "Traceback (most recent call last):" in message and "in _fail" in message
    assert message.endswith("ValueError: bad body\nsecond line of the error")
    code_line = int(entry.pop("CODE_LINE"))
    assert code_line > 0
    assert entry == {
        "PRIORITY": "3",
        "SYSLOG_IDENTIFIER": "consumer-hub@fast",
        "CODE_FILE": __file__,
        "CODE_FUNC": "test_a_traceback_is_one_entry_with_its_fields",
        "LOGGER": "hub.workers.delivery",
        "THREAD_NAME": "MainThread",
        "CONSUMER": "badges",
        "TOPIC": "org.a",
        "MSG_ID": "2024-abc",
    }
    assert err.read_text() == ""


def test_the_hubs_own_log_line_about_a_message_carries_its_fields(
    under_systemd: tuple[FakeJournal, Path],
) -> None:
    """Delivery's log line when consume() drops a message names consumer, topic and msg_id as
    fields; a line without them (no extra=) has none."""
    fake, _ = under_systemd

    def consume(message: Message) -> None:
        raise Drop("not for us")

    delivery = Delivery("audit", consume, config=RetryConfig(), dead_letters=DEAD)
    delivery.retrying = [None]
    item = Item(Message("org.b", {"msg": 1, "msg_id": "2024-x"}), 0.0, 0)
    assert delivery.deliver(0, item, [None]).kind == "dropped"
    entry = fake.entry()
    assert (entry["CONSUMER"], entry["TOPIC"], entry["MSG_ID"]) == ("audit", "org.b", "2024-x")
    assert entry["PRIORITY"] == "6" and "dropped org.b" in entry["MESSAGE"]
    logging.getLogger("hub.x").warning("plain")
    plain = fake.entry()
    assert plain["MESSAGE"] == "[MainThread] hub.x: plain" and plain["PRIORITY"] == "4"
    assert not {"CONSUMER", "TOPIC", "MSG_ID"} & set(plain)


def test_a_huge_record_is_cut_in_the_middle_with_a_note(
    under_systemd: tuple[FakeJournal, Path],
) -> None:
    """A record over the datagram limit arrives as one entry keeping its start and end, with a
    note saying how much was cut."""
    fake, _ = under_systemd
    logging.getLogger("hub.x").error("start %s end", "x\n" * 400_000)
    entry = fake.entry()
    assert len(entry["MESSAGE"].encode()) <= journal.MAX_DATAGRAM
    assert entry["MESSAGE"].startswith("[MainThread] hub.x: start x\n")
    assert entry["MESSAGE"].endswith("x\n end")
    assert " bytes cut here: one journal entry holds at most " in entry["MESSAGE"]


def test_without_the_socket_records_fall_back_to_prefixed_stderr(tmp_path: Path) -> None:
    """When journald's socket is missing, a record goes to stderr with <N> on every line."""
    err = tmp_path / "stderr"
    with err.open("w") as stream:
        fallback = logging.StreamHandler(stream)
        fallback.setFormatter(logsetup.JournalFormatter())
        handler = journal.JournalHandler("consumer-hub", fallback, str(tmp_path / "no.sock"))
        handler.setFormatter(logging.Formatter(logsetup.JOURNAL_FORMAT))
        logger = logging.getLogger("hub.fallback.test")
        logger.addHandler(handler)
        logger.propagate = False
        try:
            logger.error("two\nlines")
        finally:
            logger.removeHandler(handler)
            logger.propagate = True
            handler.close()
    assert err.read_text() == "<3>[MainThread] hub.fallback.test: two\n<3>lines\n"


def test_encode_uses_the_binary_form_only_for_newlines() -> None:
    """KEY=value for one-line values; KEY, 64-bit little-endian length, value for the others."""
    data = journal.encode([("A", "one"), ("B", "two\nlines"), ("C", "é")])
    assert data == b"A=one\nB\n" + struct.pack("<Q", 9) + b"two\nlines\nC=\xc3\xa9\n"
    assert parse(data) == {"A": "one", "B": "two\nlines", "C": "é"}
