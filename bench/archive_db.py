"""The archive benchmark's databases: a private PostgreSQL cluster and SQLite files, a fresh
database for every run, and what a run left in it.

Runs on the bench process's main thread. The cluster is the tests' own
(`tests.integration.servers.postgresql.PostgreSQL`: ``initdb`` in a temporary directory, its own
port and socket, trust on loopback), but with PostgreSQL's defaults for durability (`DURABLE`:
``fsync``, ``synchronous_commit`` and ``full_page_writes`` on, ``shared_buffers`` 128 MB), what a
site runs and what makes a commit per message cost; it is started on first use and stopped by
`Postgres.close`. SQLite files go in a temporary directory of their own (WAL, the store's
setting, which a file keeps; ``synchronous`` at SQLite's default, FULL).
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sqlalchemy import create_engine, text

log = logging.getLogger(__name__)

PACKAGE = "postgresql"
DURABLE = {"listen_addresses": "127.0.0.1", "max_connections": "50", "logging_collector": "off"}
SHOWN = ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers")


class Stored(NamedTuple):
    """What a run left in its database."""

    messages: int  # rows in ``messages``
    distinct: int  # distinct msg_ids among them
    links: int  # rows in ``users_messages`` and ``packages_messages``


class Backend(Protocol):
    """Where the archive runs write: a fresh database each."""

    name: str

    def fresh(self) -> str: ...
    def describe(self) -> str: ...
    def close(self) -> None: ...


class Postgres:
    """A private cluster with durable settings; ``fresh()`` starts it on first use."""

    name = "PostgreSQL"

    def __init__(self) -> None:
        self._server: Any = None  # tests.integration.servers.postgresql.PostgreSQL

    def _start(self) -> Any:
        from tests.integration.servers.postgresql import PostgreSQL, find_bin

        bindir = find_bin()
        if bindir is None:
            raise RuntimeError(f"{PACKAGE} is not installed: apt-get install {PACKAGE}")
        server = PostgreSQL(bindir, settings=DURABLE, prefix="bench-postgresql-")
        self._server = server
        server.start()
        log.warning("private PostgreSQL %s cluster on port %d answered after %.1f s",
                    server.version, server.port, server.startup_s)  # fmt: skip
        return server

    def fresh(self) -> str:
        """The URL (psycopg 3) of a new empty database."""
        server = self._server or self._start()
        return str(server.url(server.create_database()))

    def describe(self) -> str:
        """``PostgreSQL 15 (fsync on, synchronous_commit on, ...)``, as the server says."""
        server = self._server or self._start()
        with server.connect() as conn:
            shown = [f"{n} {conn.execute(f'SHOW {n}').fetchone()[0]}" for n in SHOWN]
        return f"PostgreSQL {server.version} ({', '.join(shown)})"

    def close(self) -> None:
        """Stop the cluster and remove its directory (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()


class Sqlite:
    """SQLite files in a temporary directory of their own."""

    name = "SQLite"

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bench-archive-sqlite-"))
        self._files = itertools.count(1)

    def fresh(self) -> str:
        """The URL of a file not created yet."""
        return f"sqlite:///{self.root / f'archive-{next(self._files)}.sqlite'}"

    def describe(self) -> str:
        """``SQLite 3.x (WAL, synchronous FULL)``."""
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous FULL)"

    def close(self) -> None:
        """Remove the files."""
        shutil.rmtree(self.root, ignore_errors=True)


def datanommer_url(url: str) -> str:
    """The URL datanommer is given: on PostgreSQL its own driver, psycopg2 (the hub's: 3)."""
    return url.replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)


def stored(url: str) -> Stored:
    """Count what is in the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*), count(DISTINCT msg_id) FROM messages"))
            messages, distinct = rows.one()
            links = sum(
                int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("users_messages", "packages_messages")
            )
        return Stored(int(messages), int(distinct), links)
    finally:
        engine.dispose()
