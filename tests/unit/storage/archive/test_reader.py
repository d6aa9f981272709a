"""hub.storage.archive.reader on SQLite: it reads, and never creates: no file, an empty file or
a database without the archive's tables is "no archive at URL", and stays as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub.storage.archive import ArchiveStore
from hub.storage.archive.errors import ArchiveMissing
from hub.storage.archive.query import Query
from hub.storage.archive.reader import ArchiveReader
from tests.archive_samples import sample_records


def _tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]


def test_no_file_is_no_archive_and_no_file_is_made(tmp_path: Path) -> None:
    """A path with no file: ArchiveMissing naming the URL; the file is still not there."""
    path = tmp_path / "archive" / "absent.sqlite"
    with pytest.raises(ArchiveMissing, match=f"no archive at sqlite:///{path}: no such file"):
        ArchiveReader(str(path)).open()
    assert not path.exists() and not path.parent.exists()


def test_an_empty_database_is_no_archive_and_gets_no_schema(tmp_path: Path) -> None:
    """A SQLite file without the tables (empty, or another application's): ArchiveMissing,
    and no table is created in it."""
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(ArchiveMissing, match="it has no messages table"):
        ArchiveReader(f"sqlite:///{path}").open()
    assert _tables(path) == ["notes"]


def test_a_partial_schema_names_what_is_missing(tmp_path: Path) -> None:
    """messages without the link tables: the error names each missing table."""
    path = tmp_path / "partial.sqlite"
    ArchiveStore(str(path)).open().close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE users_messages")
    with pytest.raises(ArchiveMissing, match="missing users_messages"):
        ArchiveReader(str(path)).open()


def test_reading_while_the_store_writes(tmp_path: Path) -> None:
    """A reader open beside a writing store sees each committed batch (WAL: no lock waits)."""
    path = tmp_path / "archive.sqlite"
    store = ArchiveStore(str(path)).open()
    reader = ArchiveReader(str(path)).open()
    records = sample_records()
    try:
        assert reader.count(Query()) == 0
        inserted, _skipped = store.write(records[:100])
        first = reader.count(Query())
        store.write(records[100:])
        assert (first, reader.count(Query())) == (inserted, 331)
    finally:
        reader.close()
        store.close()


def test_the_reader_cannot_write(tmp_path: Path) -> None:
    """Its SQLite connections are query_only: a write through one is refused."""
    path = tmp_path / "archive.sqlite"
    ArchiveStore(str(path)).open().close()
    reader = ArchiveReader(str(path)).open()
    try:
        with reader._connection() as conn, pytest.raises(Exception, match="readonly"):
            conn.exec_driver_sql("DELETE FROM users")
    finally:
        reader.close()
