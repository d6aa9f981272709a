"""hub.storage.archive on a real PostgreSQL 15 (the private cluster): the schema is the one
datanommer.models creates, datanommer's own code reads the samples back, writes are idempotent,
a differing schema is refused, and plain PostgreSQL works where TimescaleDB is absent."""

from __future__ import annotations

import datetime
import json
from typing import Any

import datanommer.models as dm
import pytest
from alembic.migration import MigrationContext
from datanommer.models.view import create_view
from sqlalchemy import Engine, create_engine, inspect, text

from hub.storage.archive import (
    ArchiveRecord,
    ArchiveSchemaMismatch,
    ArchiveStore,
    ArchiveUnavailable,
)
from hub.storage.archive import store as store_module
from hub.storage.archive.compare import reflect
from hub.storage.archive.schema import DATANOMMER_HEAD
from tests.archive_samples import (
    assert_reads_back,
    datanommer_reading,
    first_of_each,
    sample_records,
)
from tests.integration.servers.postgresql import PostgreSQL, free_port

pytestmark = pytest.mark.integration

# stands in for TimescaleDB's function (absent here) and records each call
STUB_HYPERTABLE = """
CREATE TABLE hypertable_calls (relation text, time_column text);
CREATE FUNCTION create_hypertable(relation regclass, time_column name) RETURNS void
LANGUAGE sql AS $$ INSERT INTO hypertable_calls VALUES (relation::text, time_column::text) $$;
"""


def _engine(url: str) -> Engine:
    return create_engine(url)


def _datanommer_database(url: str) -> None:
    """What datanommer's ``init(create=True)`` makes, by its own metadata and view code; its
    ``CREATE EXTENSION timescaledb`` line is left out (absent here) and its ``create_hypertable``
    DDL hook meets the stub."""
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(text(STUB_HYPERTABLE))
    dm.DeclarativeBase.metadata.create_all(engine)
    with engine.begin() as conn:
        create_view(conn)
    engine.dispose()


def _scalar(url: str, query: str) -> Any:
    engine = _engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(query)).scalar()
    engine.dispose()
    return value


def test_created_schema_equals_datanommers_own(postgresql: PostgreSQL) -> None:
    """A database we create reflects exactly as one made by datanommer.models' own metadata,
    the recent_topics view included; and our store accepts theirs (stamping the head)."""
    ours, theirs = postgresql.create_database(), postgresql.create_database()
    try:
        ArchiveStore(postgresql.url(ours)).open().close()
        _datanommer_database(postgresql.url(theirs))
        shapes = []
        for name in (ours, theirs):
            engine = _engine(postgresql.url(name))
            with engine.connect() as conn:
                shapes.append(reflect(conn))
                assert inspect(conn).get_materialized_view_names() == ["recent_topics"]
            engine.dispose()
        assert shapes[0] == shapes[1]
        assert len(shapes[0]) == 5 and len(shapes[0]["messages"].columns) == 14
        store = ArchiveStore(postgresql.url(theirs)).open()
        assert not store.created
        store.close()
        assert _scalar(postgresql.url(theirs), "SELECT version_num FROM alembic_version") == (
            DATANOMMER_HEAD
        )
    finally:
        postgresql.drop_database(ours)
        postgresql.drop_database(theirs)


def test_samples_read_back_by_datanommers_own_grep(postgresql_db: str) -> None:
    """The 401 samples: 331 stored, 70 skipped, and datanommer's Message.grep by topic,
    category and user (psycopg2, its own driver) returns exactly the stored ones."""
    store = ArchiveStore(postgresql_db).open()
    records = sample_records()
    assert store.write(records) == (331, 70)
    store.close()
    with datanommer_reading(postgresql_db.replace("+psycopg:", "+psycopg2:")):
        checked = assert_reads_back(first_of_each(records))
    assert checked == {"topics": 256, "categories": 48, "users": 37}


def test_same_batch_twice_leaves_one_row_each(postgresql_db: str) -> None:
    """The samples written twice (and again in two halves): one row each, the rest skipped."""
    store = ArchiveStore(postgresql_db).open()
    records = sample_records()
    assert store.write(records) == (331, 70)
    assert store.write(records) == (0, 401)
    assert store.write(records[:200]) == (0, 200)
    store.close()
    assert _scalar(postgresql_db, "SELECT count(*) FROM messages") == 331
    assert _scalar(postgresql_db, "SELECT count(*) - count(DISTINCT (msg_id, timestamp)) "
                   "FROM messages") == 0  # fmt: skip
    links = sum(len(set(r.usernames)) for r in first_of_each(records))
    assert _scalar(postgresql_db, "SELECT count(*) FROM users_messages") == links


def test_differing_schema_is_refused_naming_it(postgresql: PostgreSQL) -> None:
    """datanommer's schema with category made nullable is refused, naming table and column."""
    name = postgresql.create_database()
    try:
        _datanommer_database(postgresql.url(name))
        with postgresql.connect(name) as conn:
            conn.execute("ALTER TABLE messages ALTER COLUMN category DROP NOT NULL")
        with pytest.raises(ArchiveSchemaMismatch) as caught:
            ArchiveStore(postgresql.url(name)).open()
        assert caught.value.differences == [
            "table messages: column category is NULL, expected NOT NULL"
        ]
        with postgresql.connect(name) as conn:  # refused: nothing stamped
            assert conn.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,)
    finally:
        postgresql.drop_database(name)


def test_plain_postgresql_without_timescaledb(postgresql_db: str) -> None:
    """TimescaleDB is not available on this server: the store checks and uses plain tables,
    stamped so that alembic (datanommer's migrations) sees the head revision."""
    assert _scalar(postgresql_db, "SELECT count(*) FROM pg_available_extensions "
                   "WHERE name = 'timescaledb'") == 0  # fmt: skip
    store = ArchiveStore(postgresql_db).open()
    assert store.created and not store.hypertable
    store.close()
    engine = _engine(postgresql_db)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == DATANOMMER_HEAD
    engine.dispose()


def test_hypertable_made_when_timescaledb_is_enabled(
    postgresql_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the extension could be enabled, messages becomes a hypertable on timestamp (the
    extension faked: its create_hypertable is the stub, which records the call)."""
    engine = _engine(postgresql_db)
    with engine.begin() as conn:
        conn.execute(text(STUB_HYPERTABLE))
    engine.dispose()
    monkeypatch.setattr(store_module, "_enable_timescaledb", lambda conn: True)
    store = ArchiveStore(postgresql_db).open()
    assert store.hypertable
    store.close()
    assert _scalar(postgresql_db, "SELECT relation || ' ' || time_column FROM hypertable_calls"
                   ) == "messages timestamp"  # fmt: skip


def test_refused_connection_is_archive_unavailable() -> None:
    """A server that does not answer raises ArchiveUnavailable, password hidden (it retries)."""
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{free_port()}/postgres"
    with pytest.raises(ArchiveUnavailable, match="Connection refused"):
        ArchiveStore(url).open()
    with pytest.raises(ArchiveUnavailable) as caught:
        ArchiveStore(url).open()
    assert "secret" not in str(caught.value) and "postgres:***@" in str(caught.value)


def test_aware_timestamps_are_stored_as_naive_utc(postgresql_db: str) -> None:
    """A timestamp with an offset is stored as the same instant in naive UTC."""
    tz = datetime.timezone(datetime.timedelta(hours=9))
    when = datetime.datetime(2024, 6, 1, 9, 0, tzinfo=tz)
    store = ArchiveStore(postgresql_db).open()
    store.write([ArchiveRecord(topic="org.fedoraproject.prod.koji.build", body={},
                               timestamp=when, msg_id="m")])  # fmt: skip
    store.close()
    assert _scalar(postgresql_db, "SELECT timestamp FROM messages") == datetime.datetime(
        2024, 6, 1, 0, 0
    )


def test_awkward_values_are_stored_exactly(postgresql_db: str) -> None:
    """Non-ASCII, quotes, backslashes, an escaped NUL in a body, microseconds, empty and absent
    headers and NULL columns come back from PostgreSQL exactly as written (one JSON document a
    batch carries the rows: see hub.storage.archive.writer)."""
    when = datetime.datetime(2024, 6, 1, 0, 0, 0, 123456)
    body = {"text": 'é ✓ "q" \\ back\\slash \u0000 nul', "n": [1, 2.5, None, True]}
    records = [
        ArchiveRecord(topic="org.fedoraproject.prod.a.b", body=body, timestamp=when,
                      msg_id="m1", headers={"x": "ü", "n": None}, crypto="x509", i=2**31 - 1,
                      agent_name="ø'agent", certificate="c\\e\"rt"),
        ArchiveRecord(topic="org.fedoraproject.prod.a.b", body={}, timestamp=when,
                      msg_id="m2", headers={}),
        ArchiveRecord(topic="short", body=[], timestamp=when, msg_id="m3", headers=None),
    ]  # fmt: skip
    store = ArchiveStore(postgresql_db).open()
    assert store.write(records) == (3, 0)
    store.close()
    engine = _engine(postgresql_db)
    with engine.connect() as conn:
        query = text("SELECT msg_id, msg, headers, timestamp, i, agent_name, certificate, "
                     "crypto, signature FROM messages ORDER BY msg_id")  # fmt: skip
        rows = [tuple(r) for r in conn.execute(query)]
    engine.dispose()
    assert [(r[0], json.loads(r[1]), r[2]) for r in rows] == [
        ("m1", body, {"x": "ü", "n": None}), ("m2", {}, {}), ("m3", [], None)
    ]  # fmt: skip
    assert rows[0][3:] == (when, 2**31 - 1, "ø'agent", 'c\\e"rt', "x509", None)
