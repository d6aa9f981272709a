"""One batch of `ArchiveRecord`s into the archive's tables, inside the caller's transaction.

Runs on the archive consumer's worker thread (called by `ArchiveStore.write()`). Idempotent:
``messages`` rows are inserted with ``ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite both
spell it so), and ``RETURNING`` says which went in: a message whose ``(msg_id, timestamp)`` is
already stored, or is twice in the batch, is skipped and counted, and gets no link rows. Names
in ``users`` / ``packages`` are created as needed (``ON CONFLICT DO NOTHING`` again) and their
ids remembered once the transaction commits.

On PostgreSQL the ``messages`` rows go in as one ``INSERT ... SELECT * FROM
jsonb_to_recordset(:rows)``, the batch as one JSON document (`_recordset_insert`), not as
SQLAlchemy's multi-row ``VALUES``: that statement has 13 parameters a row, and psycopg converts
the placeholders of a statement of more than 50 anew on every call (its query cache stops
there), 43 µs a message, more than half of a write's CPU (docs/benchmarks.md, "Archive"). Arrays
(``unnest``) were tried: psycopg quotes every element of a text array in Python, as slow.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Executable, Table, bindparam, column, func, select
from sqlalchemy.dialects import postgresql, sqlite

from hub.storage.archive.records import ArchiveRecord, category, naive_utc, record_msg_id
from hub.storage.archive.schema import Schema

Key = tuple[str, datetime.datetime]  # (msg_id, naive UTC timestamp): the unique pair


class NameIds:
    """Ids of ``users`` or ``packages`` rows by name: those known committed, and those this
    transaction created (kept only if it commits: `commit()`, else `discard()`)."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}
        self.pending: dict[str, int] = {}

    def commit(self) -> None:
        self.known.update(self.pending)
        self.pending.clear()

    def discard(self) -> None:
        self.pending.clear()


def _insert(conn: Connection, table: Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the connection's backend."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def message_row(record: ArchiveRecord, source: tuple[str, str]) -> dict[str, Any]:
    """The ``messages`` row for ``record`` (without ``id``); ``source``: the default
    ``(source_name, source_version)``, which datanommer fills with its own."""
    return {
        "msg_id": record_msg_id(record),
        "i": record.i,
        "topic": record.topic,
        "timestamp": naive_utc(record.timestamp),
        "certificate": record.certificate,
        "signature": record.signature,
        "category": category(record.topic),
        "agent_name": record.agent_name,
        "crypto": record.crypto,
        "source_name": record.source_name or source[0],
        "source_version": record.source_version or source[1],
        "msg": json.dumps(record.body),  # as datanommer encodes it, so its LIKE filters match
        "headers": record.headers,
    }


def write_batch(
    conn: Connection, schema: Schema, batch: Sequence[ArchiveRecord], ids: tuple[NameIds, NameIds],
    source: tuple[str, str],
) -> tuple[int, int]:  # fmt: skip
    """Write ``batch``; return ``(inserted, skipped)``. ``ids``: the users' and packages'."""
    unique: dict[Key, tuple[dict[str, Any], ArchiveRecord]] = {}
    for record in batch:
        row = message_row(record, source)
        unique.setdefault((row["msg_id"], row["timestamp"]), (row, record))
    if conn.dialect.name == "sqlite":
        _assign_ids(conn, schema, (row for row, _record in unique.values()))
    rows = [row for row, _record in unique.values()]
    if conn.dialect.name == "postgresql":
        result = conn.execute(_recordset_insert(schema.messages), {"rows": _as_json(rows)})
    else:
        table = schema.messages
        stmt = _insert(conn, table).returning(table.c.id, table.c.msg_id, table.c.timestamp)
        result = conn.execute(stmt, rows)
    stored = {(msg_id, when): ident for ident, msg_id, when in result}
    records = {key: unique[key][1] for key in stored}
    _link(conn, schema.users, schema.users_messages, ids[0],
          {stored[k]: (k[1], r.usernames) for k, r in records.items()})  # fmt: skip
    _link(conn, schema.packages, schema.packages_messages, ids[1],
          {stored[k]: (k[1], r.packages) for k, r in records.items()})  # fmt: skip
    return len(stored), len(batch) - len(stored)


@functools.cache
def _recordset_insert(table: Table) -> Executable:
    """PostgreSQL: ``INSERT INTO messages (...) SELECT * FROM jsonb_to_recordset(:rows) AS
    rows(msg_id VARCHAR, ...) ON CONFLICT DO NOTHING RETURNING id, msg_id, timestamp``."""
    columns = [c for c in table.c if c.name != "id"]
    typed = [column(c.name, c.type) for c in columns]
    rows = func.jsonb_to_recordset(bindparam("rows", type_=postgresql.JSONB))
    derived = rows.table_valued(*typed).render_derived("rows", with_types=True)
    stmt = postgresql.insert(table).from_select([c.name for c in columns], select(derived))
    return stmt.on_conflict_do_nothing().returning(table.c.id, table.c.msg_id, table.c.timestamp)


def _as_json(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows for `_recordset_insert`: timestamps as ISO 8601 text (``id`` left to the
    sequence; a JSON null is SQL NULL, whatever the column's type)."""
    return [{**row, "timestamp": row["timestamp"].isoformat()} for row in rows]


def _assign_ids(conn: Connection, schema: Schema, rows: Iterable[dict[str, Any]]) -> None:
    """SQLite: number the rows after the highest stored id (the transaction holds the write
    lock, ``BEGIN IMMEDIATE``, so no other writer can take the same ids). A skipped row
    leaves a gap, as a PostgreSQL sequence does."""
    highest = conn.execute(select(func.max(schema.messages.c.id))).scalar() or 0
    for offset, row in enumerate(rows, start=1):
        row["id"] = highest + offset


def _link(
    conn: Connection, names: Table, links: Table, ids: NameIds,
    wanted: dict[int, tuple[datetime.datetime, tuple[str, ...]]],
) -> None:  # fmt: skip
    """Link each stored message (id -> (timestamp, its names)) to its names' rows."""
    every = {name for _when, named in wanted.values() for name in named}
    if not every:
        return
    by_name = _name_ids(conn, names, every, ids)
    key = links.c[0].name  # user_id / package_id
    rows = [{key: by_name[name], "msg_id": ident, "msg_timestamp": when}
            for ident, (when, named) in wanted.items() for name in set(named)]  # fmt: skip
    conn.execute(links.insert(), rows)


def _name_ids(conn: Connection, table: Table, names: set[str], ids: NameIds) -> dict[str, int]:
    """The row id of each name, inserting the names not stored yet."""
    found = {name: ids.known[name] for name in names if name in ids.known}
    missing = sorted(names - found.keys())
    if missing:
        conn.execute(_insert(conn, table), [{"name": name} for name in missing])
        query = select(table.c.name, table.c.id).where(table.c.name.in_(missing))
        fresh: dict[str, int] = {name: ident for name, ident in conn.execute(query)}
        ids.pending.update(fresh)
        found.update(fresh)
    return found
