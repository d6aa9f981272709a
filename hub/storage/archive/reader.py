"""`ArchiveReader`: the archive read back, for ``consumer-hub query`` and ``/archive/raw``.

Runs on the thread that owns the reader: the CLI's main thread, or the status endpoint's own
``archive-raw`` thread (never the reactor). Read-only: ``open()`` never creates a schema nor a
file (an absent SQLite file, or a database without the archive's tables, is `ArchiveMissing`:
"no archive at URL"), SQLite connections are ``query_only`` and PostgreSQL sessions read-only.
A database that cannot be reached is `ArchiveUnavailable`. The statements are
`hub.storage.archive.query`'s; each message comes back as an `ArchivedMessage` with its users
and packages (one more query per batch of messages for each, not one per message).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, create_engine, event, exc, inspect
from sqlalchemy.engine import make_url

from hub.storage.archive import query as statements
from hub.storage.archive.errors import ArchiveError, ArchiveMissing, ArchiveUnavailable
from hub.storage.archive.query import Query
from hub.storage.archive.schema import TABLES, build
from hub.storage.archive.store import database_url

log = logging.getLogger(__name__)

CHUNK = 500  # messages fetched (and their names looked up) at a time


@dataclass(frozen=True)
class ArchivedMessage:
    """One ``messages`` row, ``msg`` decoded, with the names of its users and packages."""

    id: int
    msg_id: str | None
    i: int
    topic: str
    timestamp: datetime.datetime  # naive UTC, as stored
    certificate: str | None
    signature: str | None
    category: str
    agent_name: str | None
    crypto: str | None
    source_name: str | None
    source_version: str | None
    msg: Any
    headers: dict[str, Any] | None
    users: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        for pragma in ("query_only=ON", "busy_timeout=5000"):
            dbapi_conn.execute(f"PRAGMA {pragma}")


class ArchiveReader:
    """The archive at ``url`` (a SQLAlchemy URL, or a SQLite file path), read-only."""

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        parsed = make_url(self.url)
        self.shown = parsed.render_as_string(hide_password=True)
        self.backend = parsed.get_backend_name()
        self.schema = build(self.backend)
        self._engine: Engine | None = None

    def open(self) -> ArchiveReader:
        """Connect and check that the archive's tables are there; raise `ArchiveMissing` when
        there is no archive, `ArchiveUnavailable` when the database cannot be reached."""
        if self.backend not in ("sqlite", "postgresql"):
            raise ArchiveError(f"{self.shown}: the archive needs SQLite or PostgreSQL")
        if self.backend == "sqlite":
            path = make_url(self.url).database or ""
            if not Path(path).is_file():
                raise ArchiveMissing(f"no archive at {self.shown}: no such file")
            engine = create_engine(self.url)
            _sqlite_setup(engine)
        else:
            options = {"postgresql_readonly": True}
            engine = create_engine(self.url, connect_args={"connect_timeout": 10},
                                   pool_pre_ping=True, execution_options=options)  # fmt: skip
        self._engine = engine
        try:
            with self._connection() as conn:
                self._check(conn)
        except BaseException:
            self.close()
            raise
        log.debug("archive %s open for reading", self.shown)
        return self

    def _check(self, conn: Connection) -> None:
        present = set(inspect(conn).get_table_names())
        if "messages" not in present:
            raise ArchiveMissing(f"no archive at {self.shown}: it has no messages table")
        missing = [t for t in TABLES if t not in present]
        for name in (t for t in TABLES if t in present):
            have = {c["name"] for c in inspect(conn).get_columns(name)}
            want = self.schema.metadata.tables[name].columns.keys()
            missing += [f"{name}.{column}" for column in want if column not in have]
        if missing:
            raise ArchiveMissing(f"no archive at {self.shown}: missing {', '.join(missing)}")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection, the database's errors as the archive's typed ones."""
        if self._engine is None:
            raise ArchiveError(f"{self.shown}: used before open()")
        try:
            with self._engine.connect() as conn:
                yield conn
        except (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError) as error:
            raise ArchiveUnavailable(f"{self.shown}: {_reason(error)}") from error
        except exc.SQLAlchemyError as error:
            raise ArchiveError(f"{self.shown}: {_reason(error)}") from error

    def count(self, query: Query) -> int:
        """How many messages ``query`` matches."""
        with self._connection() as conn:
            stmt = statements.count(self.schema, query, self.backend)
            return int(conn.execute(stmt).scalar_one())

    def page(self, query: Query, page: int, rows: int) -> list[ArchivedMessage]:
        """Page ``page`` (1-based) of ``rows`` messages."""
        stmt = statements.page_of(self.schema, query, self.backend, page, rows)
        with self._connection() as conn:
            return self._with_names(conn, conn.execute(stmt).all())

    def messages(self, query: Query, limit: int | None = None) -> Iterator[ArchivedMessage]:
        """The matching messages, ``limit`` at most (None: all), fetched ``CHUNK`` at a time."""
        stmt = statements.messages(self.schema, query, self.backend, limit=limit)
        with self._connection() as conn:
            result = conn.execution_options(yield_per=CHUNK).execute(stmt)
            for rows in result.partitions():
                yield from self._with_names(conn, rows)

    def _with_names(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[ArchivedMessage]:
        if not rows:
            return []
        s = self.schema
        users = _names(conn, s.users, s.users_messages, rows)
        packages = _names(conn, s.packages, s.packages_messages, rows)
        return [_message(row, users.get(_key(row)), packages.get(_key(row))) for row in rows]

    def close(self) -> None:
        """Close every connection; ``open()`` may be called again."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _key(row: Row[Any]) -> tuple[int, datetime.datetime]:
    return int(row.id), row.timestamp


def _names(
    conn: Connection, names: Table, links: Table, rows: Sequence[Row[Any]]
) -> dict[tuple[int, datetime.datetime], list[str]]:
    """The names linked to each of ``rows``, by the message's ``(id, timestamp)``."""
    wanted = {_key(row) for row in rows}
    stmt = statements.names_of(names, links, sorted({ident for ident, _when in wanted}))
    found: dict[tuple[int, datetime.datetime], list[str]] = {}
    for ident, when, name in conn.execute(stmt):
        if (ident, when) in wanted and name is not None:
            found.setdefault((ident, when), []).append(name)
    return found


def _message(row: Row[Any], users: list[str] | None, packages: list[str] | None) -> ArchivedMessage:
    values = row._asdict()
    values["msg"] = json.loads(values["msg"])
    return ArchivedMessage(**values, users=tuple(sorted(users or ())),
                           packages=tuple(sorted(packages or ())))  # fmt: skip


def _reason(error: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy adds the statement after it)."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__
