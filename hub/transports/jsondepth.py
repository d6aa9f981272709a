"""How deep a JSON document nests, told from its bytes before anything is decoded.

Pure; runs on whichever thread decodes (the reactor for ZeroMQ input, the AMQP input's thread).
`deeper_than` answers without building a single Python object of the document: a count of the
opening brackets settles almost every message (no more of them than the limit: not deeper);
otherwise the brackets outside strings are kept (escape sequences removed first, so every
quote left opens or closes a string) and measured by removing the innermost empty
pairs, one level a pass (a C-speed regex; most brackets are leaves, so the string shrinks
fast), until too few are left to nest deeper than the limit; past a scanning budget (a long and
deep document), a running sum finishes the count in one linear pass. A document
whose brackets do not balance is not JSON: it is left to the decoder to report.
"""

from __future__ import annotations

import re
from itertools import accumulate

_NOT_KEPT = bytes(range(256)).translate(None, b'{}[]"')  # every byte but brackets and quotes
_EMPTY_PAIR = re.compile(rb"\{\}|\[\]")
_STEP = tuple(1 if c in b"{[" else -1 if c in b"}]" else 0 for c in range(256))
_BUDGET = 1 << 20  # bytes the removal passes may still scan before a running sum takes over


def deeper_than(payload: bytes, limit: int) -> bool:
    """True when the JSON in ``payload`` nests more than ``limit`` arrays and objects deep."""
    if payload.count(b"{") + payload.count(b"[") <= limit:
        return False
    brackets = _brackets(payload)
    for removed in range(limit + 1):  # each pass removes exactly the innermost level
        if len(brackets) // 2 <= limit - removed:
            return False  # too few pairs left to nest that deep (unbalanced: the decoder's)
        if len(brackets) * (limit + 1 - removed) > _BUDGET:  # long and deep: one linear pass
            depth = max(accumulate(map(_STEP.__getitem__, brackets)), default=0)
            return removed + depth > limit
        shorter = _EMPTY_PAIR.sub(b"", brackets)
        if len(shorter) == len(brackets):
            return False  # unbalanced: not JSON, which the decoder reports
        brackets = shorter
    return True


def _brackets(payload: bytes) -> bytes:
    """The brackets of ``payload`` that are outside strings, in order."""
    if b"\\" in payload:
        payload = _unescaped(payload)
    kept = payload.translate(None, _NOT_KEPT).replace(b'""', b"")  # adjacent quotes: no content
    return b"".join(kept.split(b'"')[::2]) if b'"' in kept else kept


def _unescaped(payload: bytes) -> bytes:
    """``payload`` without its escape sequences' backslash and first character (``\\"`` among
    them), so every quote left opens or closes a string. One step per backslash."""
    pieces = payload.split(b"\\")
    out = [pieces[0]]
    escaping = True  # the backslash before the next piece starts an escape
    for piece in pieces[1:]:
        if escaping and not piece:  # an escaped backslash: the next one is plain text
            escaping = False
            continue
        out.append(piece[1:] if escaping else piece)
        escaping = True
    return b"".join(out)
