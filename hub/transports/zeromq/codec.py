"""fedmsg wire format: multipart ``[topic, JSON envelope]`` <-> `Message`.

Runs on the reactor thread (decode) and on any thread (encode, for ``hub.publish``). Pure: no
I/O, no logging; every malformed input raises one `DecodeError` whose ``cause`` is the short name
the hub counts it under (`CAUSES`).
"""

from __future__ import annotations

import itertools
import os
import socket
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson

from hub.config import HubConfig
from hub.errors import DecodeError
from hub.message import Message
from hub.transports.jsondepth import deeper_than

# Every cause a message can be rejected for, in the order they are checked: the limits first
# (frames, oversize, topic_length, depth), before a byte is decoded.
CAUSES = ("frames", "oversize", "topic_length", "depth", "utf8", "json", "not_object", "no_msg",
          "topic_mismatch")  # fmt: skip
UNLIMITED = 1 << 62
DECODER_DEPTH = 1024  # orjson's own limit: deeper is refused by it (as json), at no extra cost


def decode(
    frames: list[bytes],
    max_bytes: int,
    received_at: float,
    *,
    max_topic_bytes: int = UNLIMITED,
    max_depth: int = UNLIMITED,
) -> Message:
    """Validate and decode one multipart message; raise `DecodeError` naming the cause.

    Every limit is checked on the raw frames, before decoding: the frame count (fedmsg's two),
    the size of both (``max_bytes``), the topic's (``max_topic_bytes``), the JSON nesting depth
    (``max_depth``; `hub.transports.jsondepth`; from `DECODER_DEPTH` up, orjson's own limit)."""
    if len(frames) != 2:
        raise DecodeError("frames", f"expected 2 frames [topic, envelope], got {len(frames)}")
    raw_topic, payload = frames
    _check_limits(raw_topic, payload, max_bytes, max_topic_bytes, max_depth)
    try:
        topic = raw_topic.decode("utf-8")
        envelope = orjson.loads(payload)
    except UnicodeDecodeError as exc:
        raise DecodeError("utf8", f"not UTF-8 at byte {exc.start}") from None
    except orjson.JSONDecodeError as exc:
        cause = "utf8" if "UTF-8" in str(exc) or "surrogate" in str(exc) else "json"
        raise DecodeError(cause, str(exc)) from None
    if not isinstance(envelope, dict):
        raise DecodeError("not_object", f"envelope is a {type(envelope).__name__}, not an object")
    if "msg" not in envelope:
        raise DecodeError("no_msg", "envelope has no 'msg' key")
    claimed = envelope.get("topic", topic)
    if claimed != topic:
        raise DecodeError("topic_mismatch", f"topic frame {topic!r} but envelope says {claimed!r}")
    return Message(topic, envelope, received_at, len(raw_topic) + len(payload))


def limited_decode(config: HubConfig) -> Callable[[list[bytes], int, float], Message]:
    """`decode` with the configuration's topic-length and depth limits (the hub's input)."""
    return partial(decode, max_topic_bytes=config.max_topic_bytes, max_depth=config.max_json_depth)


def _check_limits(topic: bytes, payload: bytes, max_bytes: int, max_topic: int, depth: int) -> None:
    size = len(topic) + len(payload)
    if size > max_bytes:
        raise DecodeError("oversize", f"{size} bytes is over the limit of {max_bytes}")
    if len(topic) > max_topic:
        raise DecodeError("topic_length", f"a {len(topic)}-byte topic, over {max_topic}")
    if depth < DECODER_DEPTH and deeper_than(payload, depth):
        raise DecodeError("depth", f"JSON nested deeper than {depth}")


class Encoder:
    """Builds fedmsg envelopes for one publishing identity; safe to call from any thread.
    With ``sign`` (`hub.signatures.signer.EnvelopeSigner.sign`), ``encode`` signs."""

    def __init__(
        self,
        username: str | None = None,
        hostname: str | None = None,
        sign: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.username = username
        self.hostname = hostname
        self.sign = sign
        self._counter = itertools.count(1)  # next() on a count is atomic under the GIL

    def envelope(self, topic: str, body: Any) -> dict[str, Any]:
        """A complete fedmsg envelope for ``body`` on ``topic``."""
        now = time.time()
        return {
            "topic": topic,
            "msg": body,
            "timestamp": now,
            "msg_id": f"{time.gmtime(now).tm_year}-{uuid.uuid4()}",
            "i": next(self._counter),
            "username": self.username or _whoami(),
            "hostname": self.hostname or socket.gethostname(),
            "crypto": None,
        }

    def encode(self, topic: str, body: Any) -> list[bytes]:
        """The two frames to send for ``body`` on ``topic`` (signed, with a signer)."""
        envelope = self.envelope(topic, body)
        return encode_envelope(self.sign(envelope) if self.sign else envelope)

    def forwarded(self, message: Message, marker: str) -> list[bytes]:
        """The frames that send ``message`` on as it is: its envelope (topic, msg, msg_id,
        timestamp, headers, and ``i``/``username``/``hostname`` when it has them; ours when
        not), with ``headers[marker]`` set to ``"zmq"`` (a bridge carried it here)."""
        envelope = {**self.envelope(message.topic, message.body), **message.envelope}
        envelope["topic"] = message.topic
        headers = envelope.get("headers")
        envelope["headers"] = {**(headers if isinstance(headers, dict) else {}), marker: "zmq"}
        return encode_envelope(envelope)


def encode_envelope(envelope: dict[str, Any]) -> list[bytes]:
    """The two frames for an existing envelope (used to replay samples and dead letters)."""
    return [str(envelope["topic"]).encode("utf-8"), orjson.dumps(envelope)]


def _whoami() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return str(os.getuid())
