"""The private PostgreSQL cluster fixture itself: loopback only, its own socket, fresh databases."""

from __future__ import annotations

import os
import pwd

import pytest

from tests.integration.servers.postgresql import PostgreSQL

pytestmark = pytest.mark.integration


def test_cluster_runs_unprivileged_on_loopback(postgresql: PostgreSQL) -> None:
    """The server listens on 127.0.0.1 only, keeps its socket in its own directory, not as root."""
    with postgresql.connect() as conn:
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('listen_addresses', 'unix_socket_directories', 'port', 'data_directory')"
        ).fetchall())  # fmt: skip
    assert settings["listen_addresses"] == "127.0.0.1"
    assert settings["unix_socket_directories"] == str(postgresql.root)
    assert settings["port"] == str(postgresql.port)
    assert settings["data_directory"] == str(postgresql.data)
    assert (postgresql.root / f".s.PGSQL.{postgresql.port}").is_socket()
    if os.getuid() == 0:
        assert pwd.getpwuid(postgresql.data.stat().st_uid).pw_name == "postgres"


def test_each_test_gets_an_empty_database(postgresql: PostgreSQL, postgresql_db: str) -> None:
    """`postgresql_db` names a new database with no tables of its own in it."""
    name = postgresql_db.rsplit("/", 1)[1]
    with postgresql.connect(name) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)
