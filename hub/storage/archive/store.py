"""`ArchiveStore`: the archive database, SQLite (the embedded default) or PostgreSQL.

Runs on the archive consumer's worker thread: one store per consumer, used by that thread only
(``open()``, ``write()``, ``close()``). SQLAlchemy Core, not the ORM and not bare psycopg: one
code path serves SQLite and PostgreSQL, and datanommer.models is itself SQLAlchemy, so our
tables can be compared with its own, table by table (see `hub.storage.archive.compare`).

``open()`` creates the schema when the database has none of its tables: on PostgreSQL it uses
TimescaleDB (a hypertable on ``timestamp``, as datanommer does) when the extension is available
and works without it, creates datanommer's ``recent_topics`` materialized view, and stamps
``alembic_version`` with datanommer's head revision. A database that has the tables is compared
with datanommer's schema first, and refused (`ArchiveSchemaMismatch`) when it differs.
``write(batch)`` is one transaction per batch (see `hub.storage.archive.writer`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, inspect, select, text
from sqlalchemy.engine import make_url

import hub
from hub.storage.archive.compare import differences, expected, reflect
from hub.storage.archive.errors import (
    ArchiveError,
    ArchiveSchemaMismatch,
    ArchiveUnavailable,
    ArchiveWriteError,
)
from hub.storage.archive.records import ArchiveRecord
from hub.storage.archive.schema import (
    DATANOMMER_HEAD,
    RECENT_TOPICS_DDL,
    alembic_version,
    build,
)
from hub.storage.archive.writer import NameIds, write_batch

log = logging.getLogger(__name__)

SOURCE = ("consumer-hub", hub.__version__)  # source_name/version when a message names none
_LOCK_KEY = 0x64617461  # pg_advisory_xact_lock: two hubs creating one schema take turns


def database_url(url: str) -> str:
    """A SQLAlchemy URL; a plain file path means SQLite (``/var/lib/hub/archive.sqlite``)."""
    if "://" in url:
        return url
    return f"sqlite:///{Path(url).expanduser().resolve()}"


def _sqlite_setup(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for each transaction
    (the writer lock is taken before ids are read; pysqlite's own BEGIN is switched off)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000"):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class ArchiveStore:
    """The archive at ``url`` (a SQLAlchemy URL, or a file path for SQLite)."""

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.shown = make_url(self.url).render_as_string(hide_password=True)
        self.backend = make_url(self.url).get_backend_name()
        self.schema = build(self.backend)
        self.hypertable = False
        self.created = False
        self._engine: Engine | None = None
        self._ids = (NameIds(), NameIds())

    def open(self) -> ArchiveStore:
        """Connect; create the schema when missing, else check it (see the module docstring)."""
        if self.backend not in ("sqlite", "postgresql"):
            raise ArchiveError(f"{self.shown}: the archive needs SQLite or PostgreSQL")
        engine = create_engine(self.url, pool_pre_ping=True)
        if self.backend == "sqlite":
            _sqlite_setup(engine)
        self._engine = engine
        try:
            with _errors(self.shown), engine.begin() as conn:
                self._prepare(conn)
        except BaseException:
            self.close()
            raise
        log.info("archive %s open (%s, created %s, hypertable %s)", self.shown, self.backend,
                 self.created, self.hypertable)  # fmt: skip
        return self

    def _prepare(self, conn: Connection) -> None:
        if self.backend == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        present = set(inspect(conn).get_table_names()) & set(self.schema.metadata.tables)
        if not present:
            self._create(conn)
            return
        found = differences(expected(self.schema, conn.dialect), reflect(conn))
        found += self._revision_differences(conn)
        if found:
            raise ArchiveSchemaMismatch(self.shown, found)
        self.hypertable = self.backend == "postgresql" and _is_hypertable(conn)

    def _create(self, conn: Connection) -> None:
        """The schema in an empty database, TimescaleDB and the view on PostgreSQL, stamped."""
        timescale = self.backend == "postgresql" and _enable_timescaledb(conn)
        self.schema.metadata.create_all(conn)
        if timescale:
            conn.execute(text("SELECT create_hypertable('messages', 'timestamp')"))
            self.hypertable = True
        if self.backend == "postgresql":
            for ddl in RECENT_TOPICS_DDL:
                conn.execute(text(ddl))
        self._stamp(conn)
        self.created = True

    def _revision_differences(self, conn: Connection) -> list[str]:
        """The alembic revision, when stamped, must be datanommer's head; unstamped, stamp it."""
        if not inspect(conn).has_table("alembic_version"):
            self._stamp(conn)
            return []
        revisions = conn.execute(select(alembic_version.c.version_num)).scalars().all()
        if revisions != [DATANOMMER_HEAD]:
            return [f"alembic_version is {revisions}, expected ['{DATANOMMER_HEAD}']"]
        return []

    def _stamp(self, conn: Connection) -> None:
        alembic_version.create(conn, checkfirst=True)
        conn.execute(alembic_version.insert(), {"version_num": DATANOMMER_HEAD})

    def write(self, batch: Sequence[ArchiveRecord]) -> tuple[int, int]:
        """Write ``batch`` in one transaction; return ``(inserted, skipped)``: a message whose
        ``(msg_id, timestamp)`` is stored already (or twice in the batch) is skipped."""
        if self._engine is None:
            raise ArchiveError(f"{self.shown}: write() before open()")
        if not batch:
            return 0, 0
        try:
            with _errors(self.shown), self._engine.begin() as conn:
                counts = write_batch(conn, self.schema, batch, self._ids, SOURCE)
        except BaseException:
            for ids in self._ids:
                ids.discard()
            raise
        for ids in self._ids:
            ids.commit()
        return counts

    def close(self) -> None:
        """Close every connection; ``open()`` may be called again."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _enable_timescaledb(conn: Connection) -> bool:
    """True once TimescaleDB is installed in the database; False when it is not available
    on the server or cannot be loaded (not in ``shared_preload_libraries``): then plain tables."""
    query = text("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")
    if not conn.execute(query).scalar():
        log.info("TimescaleDB is not available: the archive uses plain PostgreSQL tables")
        return False
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except exc.DBAPIError as error:
        log.warning("TimescaleDB is available but could not be enabled: %s", error.orig)
        return False
    return True


def _is_hypertable(conn: Connection) -> bool:
    """True when ``messages`` is a TimescaleDB hypertable (False without the extension)."""
    query = text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
    if not conn.execute(query).scalar():
        return False
    query = text("SELECT count(*) FROM timescaledb_information.hypertables "
                 "WHERE hypertable_name = 'messages'")  # fmt: skip
    return bool(conn.execute(query).scalar())


@contextlib.contextmanager
def _errors(shown: str) -> Iterator[None]:
    """Turns the database's errors into the archive's typed ones: connection trouble (refused,
    dropped, locked) is `ArchiveUnavailable`; anything else the database refused is
    `ArchiveWriteError`. Our own `ArchiveError`s pass through."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError) as error:
        raise ArchiveUnavailable(f"{shown}: {_reason(error)}") from error
    except exc.DBAPIError as error:
        if error.connection_invalidated:
            raise ArchiveUnavailable(f"{shown}: {_reason(error)}") from error
        raise ArchiveWriteError(f"{shown}: {_reason(error)}") from error
    except exc.SQLAlchemyError as error:
        raise ArchiveWriteError(f"{shown}: {_reason(error)}") from error


def _reason(error: BaseException) -> str:
    """The driver's own message, first line only (SQLAlchemy adds the statement after it)."""
    orig = getattr(error, "orig", None) or error
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
