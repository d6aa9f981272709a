"""What an `ArchivedMessage` is shown as: the fedmsg envelope ``consumer-hub query --json``
prints, and the dict datagrepper's ``/raw`` returns for it.

Pure functions, on the thread that read the message (the CLI's main thread, the status
endpoint's ``archive-raw`` thread).
"""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from hub.storage.archive.reader import ArchivedMessage

# envelope keys taken from the row as they are, when the row has a value for them
_OPTIONAL = ("headers", "crypto", "certificate", "signature", "source_name", "source_version")


def epoch(when: datetime.datetime) -> float:
    """A stored (naive UTC) timestamp as epoch seconds, microseconds kept."""
    return when.replace(tzinfo=datetime.UTC).timestamp()


def envelope(message: ArchivedMessage) -> dict[str, Any]:
    """The fedmsg envelope of ``message``: ``topic``, ``msg``, ``msg_id``, ``timestamp`` (epoch
    seconds), ``i``, ``username`` (the agent), and the other envelope fields the row holds.
    What the hub's ZeroMQ input decodes, and what the demo publisher and dead-letter replay
    send (``hub.transports.zeromq.codec.encode_envelope`` takes it as it is)."""
    out: dict[str, Any] = {
        "topic": message.topic,
        "msg": message.msg,
        "msg_id": message.msg_id,
        "timestamp": epoch(message.timestamp),
        "i": message.i,
    }
    if message.agent_name is not None:
        out["username"] = message.agent_name
    for key in _OPTIONAL:
        value = getattr(message, key)
        if value is not None:
            out[key] = value
    return out


def datagrepper(message: ArchivedMessage) -> dict[str, Any]:
    """``message`` as datagrepper 1.x's ``/raw`` returns it: datanommer's ``Message.as_dict()``
    through datagrepper's JSON encoder, which writes a datetime as ``time.mktime()`` of it: whole
    epoch seconds as a float, read in the server's local time (here: UTC, as stored)."""
    return {
        "i": message.i,
        "msg_id": message.msg_id,
        "topic": message.topic,
        "timestamp": float(calendar.timegm(message.timestamp.timetuple())),
        "certificate": message.certificate,
        "signature": message.signature,
        "agent_name": message.agent_name,
        "username": message.agent_name,  # datanommer: DEPRECATED, the same value
        "crypto": message.crypto,
        "msg": message.msg,
        "headers": message.headers,
        "source_name": message.source_name,
        "source_version": message.source_version,
        "users": list(message.users),
        "packages": list(message.packages),
    }
