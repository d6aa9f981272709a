"""Native journald logging: one journal entry per record, traceback included, with fields.

Thread: whichever thread logs. `logging.Handler.handle` holds the handler's lock around `emit`,
and each record is one ``sendto`` of one datagram, so entries from different threads never mix.

Through stderr, journald makes one entry of every line, so a traceback became twenty entries.
`JournalHandler` speaks journald's native protocol instead (systemd's "Native Journal Protocol"
document): a datagram to ``/run/systemd/journal/socket`` holding ``KEY=value\\n`` fields, where
a value with a newline is sent as ``KEY\\n``, its length as 64-bit little-endian, the value and
``\\n``. Each entry carries MESSAGE (the same ``[thread] logger: text`` line as before, and the
traceback), PRIORITY, SYSLOG_IDENTIFIER, CODE_FILE/CODE_LINE/CODE_FUNC, LOGGER, THREAD_NAME and,
when the record has them as attributes, CONSUMER, TOPIC and MSG_ID: the hub's log calls about
one message pass them with ``extra=log_fields(...)``; nothing is parsed out of the text.

A datagram larger than `MAX_DATAGRAM` (the kernel's default socket buffer allows about 208 KB;
systemd's own client would fall back to a memfd) has the middle of its MESSAGE cut, with a note
saying how much, keeping its start and its end (where a traceback names the exception). When the
socket refuses a record (journald restarting, no socket), it goes to the fallback handler:
stderr, which under systemd is the journal's stream, one entry a line as before.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import struct
from collections.abc import Iterable

SOCKET_PATH = "/run/systemd/journal/socket"
MAX_DATAGRAM = 192 * 1024
SMALL_DATAGRAM = 16 * 1024  # the retry when even MAX_DATAGRAM was too large for this socket

# sd-daemon.h: SD_EMERG "<0>" ... SD_CRIT "<2>", SD_ERR "<3>", SD_WARNING "<4>",
# SD_NOTICE "<5>", SD_INFO "<6>", SD_DEBUG "<7>"; also journald's PRIORITY= values.
SD_CRIT, SD_ERR, SD_WARNING, SD_NOTICE, SD_INFO, SD_DEBUG = 2, 3, 4, 5, 6, 7

Fields = list[tuple[str, str]]

# record attribute -> journal field, for log lines about one message (`log_fields`)
MESSAGE_FIELDS = (("consumer", "CONSUMER"), ("topic", "TOPIC"), ("msg_id", "MSG_ID"))


def syslog_priority(levelno: int) -> int:
    """Map a logging level number to an sd-daemon.h / syslog priority."""
    if levelno >= logging.CRITICAL:
        return SD_CRIT
    if levelno >= logging.ERROR:
        return SD_ERR
    if levelno >= logging.WARNING:
        return SD_WARNING
    if levelno >= logging.INFO:
        return SD_INFO
    return SD_DEBUG


def log_fields(
    consumer: str, topic: str | None = None, msg_id: str | None = None
) -> dict[str, str]:
    """The ``extra=`` of a log call about a consumer (and one of its messages)."""
    fields = {"consumer": consumer}
    if topic is not None:
        fields["topic"] = topic
    if msg_id is not None:
        fields["msg_id"] = msg_id
    return fields


def encode(fields: Iterable[tuple[str, str]]) -> bytes:
    """The native-protocol datagram for ``fields`` (each key upper case, ``[A-Z0-9_]``)."""
    parts = []
    for key, value in fields:
        data = value.encode("utf-8", "backslashreplace")
        if b"\n" in data:
            parts.append(b"%s\n%s%s\n" % (key.encode(), struct.pack("<Q", len(data)), data))
        else:
            parts.append(b"%s=%s\n" % (key.encode(), data))
    return b"".join(parts)


def shorten(text: str, budget: int) -> str:
    """``text`` in at most about ``budget`` UTF-8 bytes: its start and end, with a note."""
    data = text.encode("utf-8", "backslashreplace")
    if len(data) <= budget:
        return text
    keep = max(0, budget - 200) // 2
    note = (f"\n[... {len(data) - 2 * keep} bytes cut here: one journal entry holds at most "
            f"{budget} bytes of message ...]\n")  # fmt: skip
    head = data[:keep].decode("utf-8", "ignore")
    tail = data[len(data) - keep :].decode("utf-8", "ignore")
    return head + note + tail


class JournalHandler(logging.Handler):
    """Sends each record to journald as one entry (see the module docstring)."""

    def __init__(self, identifier: str, fallback: logging.Handler, path: str = SOCKET_PATH):
        super().__init__()
        self.identifier = identifier
        self.fallback = fallback
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        with contextlib.suppress(OSError):  # as large as net.core.wmem_max allows
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 * 1024 * 1024)

    def fields(self, record: logging.LogRecord, budget: int = MAX_DATAGRAM) -> Fields:
        """The journal fields of ``record``, its MESSAGE cut to fit ``budget``."""
        found = [
            ("PRIORITY", str(syslog_priority(record.levelno))),
            ("SYSLOG_IDENTIFIER", self.identifier),
            ("CODE_FILE", record.pathname),
            ("CODE_LINE", str(record.lineno)),
            ("CODE_FUNC", record.funcName),
            ("LOGGER", record.name),
            ("THREAD_NAME", str(record.threadName)),
        ]
        for attr, key in MESSAGE_FIELDS:
            value = getattr(record, attr, None)
            if value is not None:
                found.append((key, str(value)))
        room = budget - len(encode(found)) - 64  # 64: MESSAGE's key, length and newlines
        return [("MESSAGE", shorten(self.format(record), room)), *found]

    def emit(self, record: logging.LogRecord) -> None:
        """Send ``record`` as one datagram; smaller if the socket says it is too large; to the
        fallback if the socket cannot be used."""
        try:
            try:
                self.sock.sendto(encode(self.fields(record)), self.path)
            except OSError as exc:
                if exc.errno != errno.EMSGSIZE:
                    raise
                self.sock.sendto(encode(self.fields(record, SMALL_DATAGRAM)), self.path)
        except OSError:
            self.fallback.handle(record)
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        """Close the socket (and the fallback)."""
        self.sock.close()
        self.fallback.close()
        super().close()
