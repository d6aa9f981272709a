"""datagrepper 1.x's ``/raw`` query parameters, read into a `Query` and a page.

Pure functions, run on the reactor thread when a request arrives (no I/O). The same parameters
and defaults as datagrepper's ``raw()`` view: the filters ``topic``, ``category``, ``user``,
``package``, ``agent``, ``contains`` and their ``not_`` forms, each repeatable (values ORed;
``topic`` is an exact topic there, so here too); ``start``, ``end`` (epoch seconds, or ISO 8601)
and ``delta`` (seconds) combined as datagrepper's ``assemble_timerange`` does with its default
``DEFAULT_QUERY_DELTA = 0``; ``page`` (from 1), ``rows_per_page`` (25, at most 100) and
``order`` (``desc`` or ``asc``). ``arguments`` echoes them as datagrepper's response does.

Where datagrepper answers 500 (a page that is not a number) or an HTML page, this raises
`BadParameter` naming the parameter (the resource answers 400 with it as JSON). Refused, where
datagrepper would do something this endpoint does not: ``rows_per_page`` below 1 (datagrepper
returns every message), ``callback`` (JSONP) and ``meta`` (fedora-messaging schema fields).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.storage.archive.globs import literal
from hub.storage.archive.query import Query
from hub.storage.archive.times import FORMS, epoch, iso

ROWS_DEFAULT = 25
ROWS_MAX = 100
CONTAINS_WINDOW = datetime.timedelta(weeks=4 * 8)  # datagrepper's "eight months" for contains
# (parameter, Query field); the echo in ``arguments`` is the field's name, as datagrepper's
FILTERS = (("user", "users"), ("package", "packages"), ("category", "categories"),
           ("topic", "topics"), ("agent", "agents"), ("contains", "contains"),
           ("not_user", "not_users"), ("not_package", "not_packages"),
           ("not_category", "not_categories"), ("not_topic", "not_topics"),
           ("not_agent", "not_agents"))  # fmt: skip
UNSUPPORTED = {
    "callback": "JSONP (callback) is not supported here: ask for JSON",
    "meta": "meta (fedora-messaging schema fields) is not supported here",
}

Args = Mapping[str, Sequence[str]]  # each parameter's values, in request order


class BadParameter(ValueError):
    """A parameter datagrepper would refuse too (or could not read); ``name`` is which."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name


@dataclass(frozen=True)
class RawRequest:
    """What a ``/raw`` request asks: the filters, the page, and datagrepper's echo of it."""

    query: Query
    page: int
    rows_per_page: int
    arguments: dict[str, Any]


def _one(args: Args, name: str) -> str | None:
    values = args.get(name)
    return values[0] if values else None  # datagrepper's request.args.get: the first


def _seconds(args: Args, name: str) -> float | None:
    """``start``/``end`` as epoch seconds: a number, or ISO 8601 (UTC unless it says)."""
    text = _one(args, name)
    if text is None:
        return None
    moment = epoch(text) or iso(text)
    if moment is None:
        raise BadParameter(name, f"{name} must be a time: {FORMS}; got {text!r}")
    return moment.timestamp()


def _delta(args: Args) -> float | None:
    text = _one(args, "delta")
    try:
        return None if text is None else float(text)
    except ValueError:
        raise BadParameter("delta", f"delta must be a number of seconds, not {text!r}") from None


def timerange(
    start: float | None, end: float | None, delta: float | None, now: float
) -> tuple[float | None, float | None, float | None]:
    """datagrepper's ``assemble_timerange`` (default delta 0): ``(start, end, delta)``."""
    if start is None:
        if end is None:
            return (None, None, None) if delta is None else (now - delta, now, delta)
        return (0.0, end, delta) if delta is None else (end - delta, end, delta)
    if end is None:
        return (start, now, now - start) if delta is None else (start, start + delta, delta)
    return start, end, end - start


def _paging(args: Args) -> tuple[int, int, str]:
    values = {}
    for name, default in (("page", 1), ("rows_per_page", ROWS_DEFAULT)):
        text = _one(args, name)
        try:
            values[name] = default if text is None else int(text)
        except ValueError:
            raise BadParameter(name, f"{name} must be a whole number, not {text!r}") from None
    if values["page"] < 1:
        raise BadParameter("page", "page must be > 0")
    if not 1 <= values["rows_per_page"] <= ROWS_MAX:
        raise BadParameter("rows_per_page", f"rows_per_page must be from 1 to {ROWS_MAX}")
    order = _one(args, "order") or "desc"
    if order not in ("desc", "asc"):
        raise BadParameter("order", "order must be either 'desc' or 'asc'")
    return values["page"], values["rows_per_page"], order


def _check_contains(filters: dict[str, list[str]], start: float | None, now: float) -> None:
    """datagrepper's two conditions on ``contains`` (it scans message bodies)."""
    if not filters["contains"]:
        return
    if (start or 0.0) < now - CONTAINS_WINDOW.total_seconds():
        raise BadParameter("contains", "When using contains, specify a start at most eight "
                           "months into the past")  # fmt: skip
    if not (filters["categories"] or filters["topics"]):
        raise BadParameter("contains", "When using contains, specify either a topic or a "
                           "category as well")  # fmt: skip


def _moment(seconds: float | None, name: str) -> datetime.datetime | None:
    if seconds is None:
        return None
    try:
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        raise BadParameter(name, f"{name} is out of range: {seconds!r}") from None


def parse(args: Args, now: float) -> RawRequest:
    """The request ``args`` make at ``now`` (epoch seconds); raise `BadParameter`."""
    for name, text in UNSUPPORTED.items():
        if name in args:
            raise BadParameter(name, text)
    start, end, delta = timerange(_seconds(args, "start"), _seconds(args, "end"), _delta(args), now)
    filters = {field: list(args.get(name, ())) for name, field in FILTERS}
    _check_contains(filters, start, now)
    page, rows, order = _paging(args)
    exact: dict[str, Any] = {k: tuple(literal(t) for t in v) if k.endswith("topics") else tuple(v)
             for k, v in filters.items()}  # fmt: skip
    query = Query(**exact, start=_moment(start, "start"), end=_moment(end, "end"), order=order)
    arguments = {"start": start, "delta": delta, "end": end, **filters, "page": page,
                 "rows_per_page": rows, "order": order, "meta": []}  # fmt: skip
    return RawRequest(query, page, rows, arguments)
