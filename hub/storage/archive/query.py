"""Asking the archive: `Query` (the filters) and the SQLAlchemy Core statements it becomes.

Pure functions that build statements (no I/O); `hub.storage.archive.reader` runs them, on the
thread that owns its reader (the CLI's main thread, or the status endpoint's ``archive-raw``
thread). The semantics are datanommer.models 1.5.0's ``Message.grep()``:

- each kind of filter is a list, its values ORed: ``users=("ralph", "pingou")`` is messages
  concerning either; the kinds are ANDed; each ``not_`` kind excludes what its values match;
- ``categories``, ``users``, ``packages``, ``agents`` match exactly; ``contains`` is datanommer's
  ``msg LIKE '%value%'`` on the stored JSON (``%`` and ``_`` in it are wildcards there too);
- ``topics`` (and ``not_topics``) are our globs (`hub.storage.archive.globs`): a topic without a
  wildcard matches exactly, as datanommer's ``topic ==`` does;
- ``start`` and ``end`` are both inclusive (datanommer's ``BETWEEN``); either may be given alone;
- ordered by ``timestamp`` (then ``id``, so that pages do not overlap where timestamps tie),
  newest first unless ``order`` is ``"asc"``; a page is ``OFFSET rows * (page - 1) LIMIT rows``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, exists, func, not_, or_, select

from hub.storage.archive.globs import glob_condition
from hub.storage.archive.schema import Schema

ORDERS = ("desc", "asc")


@dataclass(frozen=True)
class Query:
    """What to read from the archive. Times are naive UTC (as stored) or aware."""

    topics: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    not_topics: tuple[str, ...] = ()
    not_categories: tuple[str, ...] = ()
    not_users: tuple[str, ...] = ()
    not_packages: tuple[str, ...] = ()
    not_agents: tuple[str, ...] = ()
    msg_id: str | None = None
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    order: str = "desc"

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {self.order!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):  # a list from a caller: kept as the tuple it is typed
                object.__setattr__(self, f.name, tuple(value))


def _naive_utc(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def _linked(schema: Schema, names: Table, links: Table, values: tuple[str, ...]) -> Any:
    """EXISTS a link from the message to a ``users``/``packages`` row named one of ``values``
    (datanommer's ``Message.users.any(User.name == u)``, ORed)."""
    m = schema.messages
    return exists(
        select(links.c.msg_id)
        .join(names, names.c.id == links.c[0])
        .where(links.c.msg_id == m.c.id, links.c.msg_timestamp == m.c.timestamp)
        .where(names.c.name.in_(values))
    )


def _kinds(schema: Schema, dialect: str, *values: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """One condition per kind of filter given, ``values`` being its topics, categories, users,
    packages and agents: any of its values (for a ``not_`` kind the caller negates each; a NULL
    agent_name is then not matched, as in datanommer's SQL)."""
    topics, categories, users, packages, agents = values
    m = schema.messages
    kinds: list[ColumnElement[bool]] = []
    if topics:
        kinds.append(or_(*(glob_condition(m.c.topic, t, dialect) for t in topics)))
    if categories:
        kinds.append(m.c.category.in_(categories))
    if users:
        kinds.append(_linked(schema, schema.users, schema.users_messages, users))
    if packages:
        kinds.append(_linked(schema, schema.packages, schema.packages_messages, packages))
    if agents:
        kinds.append(m.c.agent_name.in_(agents))
    return kinds


def _positive(schema: Schema, query: Query, dialect: str) -> list[ColumnElement[bool]]:
    """The positive kinds, and ``contains``."""
    kinds = _kinds(schema, dialect, query.topics, query.categories, query.users,
                   query.packages, query.agents)  # fmt: skip
    if query.contains:
        msg = schema.messages.c.msg
        kinds.append(or_(*(msg.like(f"%{text}%") for text in query.contains)))
    return kinds


def _negative(schema: Schema, query: Query, dialect: str) -> list[ColumnElement[bool]]:
    """The ``not_`` kinds, each ``NOT (any of its values)``."""
    kinds = _kinds(schema, dialect, query.not_topics, query.not_categories, query.not_users,
                   query.not_packages, query.not_agents)  # fmt: skip
    return [not_(kind) for kind in kinds]


def conditions(schema: Schema, query: Query, dialect: str) -> list[ColumnElement[bool]]:
    """Every condition of ``query`` on ``messages`` (ANDed by the caller)."""
    m = schema.messages
    found = _positive(schema, query, dialect) + _negative(schema, query, dialect)
    if query.start is not None:
        found.append(m.c.timestamp >= _naive_utc(query.start))
    if query.end is not None:
        found.append(m.c.timestamp <= _naive_utc(query.end))
    if query.msg_id is not None:
        found.append(m.c.msg_id == query.msg_id)
    return found


def count(schema: Schema, query: Query, dialect: str) -> Select[Any]:
    """How many messages ``query`` matches."""
    where = conditions(schema, query, dialect)
    return select(func.count(schema.messages.c.id)).where(*where)


def messages(
    schema: Schema, query: Query, dialect: str, *, limit: int | None = None, offset: int = 0
) -> Select[Any]:
    """The matching ``messages`` rows, in ``query.order``; ``limit`` None: all of them."""
    m = schema.messages
    if query.order == "asc":
        order = (m.c.timestamp.asc(), m.c.id.asc())
    else:
        order = (m.c.timestamp.desc(), m.c.id.desc())
    stmt = select(m).where(*conditions(schema, query, dialect)).order_by(*order)
    if offset:
        stmt = stmt.offset(offset)
    return stmt if limit is None else stmt.limit(limit)


def page_of(schema: Schema, query: Query, dialect: str, page: int, rows: int) -> Select[Any]:
    """Page ``page`` (1-based) of ``rows`` messages, as datanommer's ``grep()`` pages."""
    if page < 1 or rows < 1:
        raise ValueError(f"page and rows must be at least 1, not {page} and {rows}")
    return messages(schema, query, dialect, limit=rows, offset=rows * (page - 1))


def names_of(names: Table, links: Table, ids: list[int]) -> Select[Any]:
    """``(message id, message timestamp, name)`` of every name linked to messages ``ids``."""
    return (
        select(links.c.msg_id, links.c.msg_timestamp, names.c.name)
        .join(names, names.c.id == links.c[0])
        .where(links.c.msg_id.in_(ids))
    )
