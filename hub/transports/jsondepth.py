"""How deep a JSON document nests, told from its bytes before anything is decoded.

Pure; runs on whichever thread decodes (the reactor for ZeroMQ input, the AMQP input's thread).
`deeper_than` answers without building a single Python object of the document: a count of the
opening brackets settles almost every message (no more of them than the limit: not deeper);
otherwise the brackets outside strings are kept (escaped backslashes and quotes removed first,
so every quote left opens or closes a string) and measured: by removing the innermost empty
pairs one level a pass for a short run of brackets, by a running sum for a long one. A document
whose brackets do not balance is not JSON: it is left to the decoder to report.
"""

from __future__ import annotations

import re
from itertools import accumulate

_NOT_KEPT = bytes(range(256)).translate(None, b'{}[]"')  # every byte but brackets and quotes
_EMPTY_PAIR = re.compile(rb"\{\}|\[\]")
_STEP = tuple(1 if c in b"{[" else -1 if c in b"}]" else 0 for c in range(256))
_PASSES_UP_TO = 512  # brackets: past this a running sum is cheaper than removal passes


def deeper_than(payload: bytes, limit: int) -> bool:
    """True when the JSON in ``payload`` nests more than ``limit`` arrays and objects deep."""
    if payload.count(b"{") + payload.count(b"[") <= limit:
        return False
    brackets = _brackets(payload)
    if len(brackets) > _PASSES_UP_TO:
        return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit
    for _ in range(limit + 1):
        if not brackets:
            return False
        shorter = _EMPTY_PAIR.sub(b"", brackets)  # exactly the innermost level
        if len(shorter) == len(brackets):
            return False  # unbalanced: not JSON, which the decoder reports
        brackets = shorter
    return True


def _brackets(payload: bytes) -> bytes:
    """The brackets of ``payload`` that are outside strings, in order."""
    text = payload.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(text.translate(None, _NOT_KEPT).split(b'"')[::2])
