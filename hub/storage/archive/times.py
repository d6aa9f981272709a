"""Moments as people and datagrepper clients write them, read into aware UTC datetimes.

Pure functions, used on the CLI's main thread and the status endpoint's ``archive-raw`` thread.
Accepted: epoch seconds (``1709296215``, ``1709296215.25``); ISO 8601 (``2024-03-01``,
``2024-03-01T12:30:15Z``, ``2024-03-01 12:30+01:00``; without an offset it is UTC, as
datagrepper takes it); and, where ``relative`` is allowed, a span back from now: a number and
one of ``s`` ``m`` ``h`` ``d`` ``w`` (``90s``, ``30m``, ``1h``, ``2d``, ``1.5w``).
"""

from __future__ import annotations

import datetime
import math
import re

_SPAN = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
FORMS = "epoch seconds, ISO 8601 (2024-03-01T12:30:00Z)"
RELATIVE_FORMS = f"{FORMS}, or a span back from now (30m, 1h, 2d)"


def epoch(text: str) -> datetime.datetime | None:
    """``text`` as epoch seconds, or None when it is not a number."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    try:
        return datetime.datetime.fromtimestamp(value, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def span(text: str) -> datetime.timedelta | None:
    """``30m``, ``1h``, ``2d``... as a timedelta; None when ``text`` is not one."""
    found = _SPAN.match(text.strip())
    if found is None:
        return None
    return datetime.timedelta(seconds=float(found[1]) * _UNIT_S[found[2]])


def iso(text: str) -> datetime.datetime | None:
    """``text`` as ISO 8601, UTC when it names no offset; None when it is not one."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def moment(text: str, now: datetime.datetime, *, relative: bool = True) -> datetime.datetime:
    """``text`` as an aware UTC datetime (see the module docstring); ``now`` (aware) for spans.
    Raises ValueError naming the accepted forms."""
    found = epoch(text) or iso(text)
    if found is not None:
        return found
    back = span(text) if relative else None
    if back is not None:
        return now - back
    raise ValueError(f"{text!r} is not a time: expected {RELATIVE_FORMS if relative else FORMS}")
