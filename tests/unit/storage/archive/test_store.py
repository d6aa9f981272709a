"""hub.storage.archive.store on SQLite (real files in tmp_path): create, check, write, refuse."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import pytest

from hub.storage.archive import (
    ArchiveRecord,
    ArchiveSchemaMismatch,
    ArchiveStore,
    ArchiveUnavailable,
)
from hub.storage.archive.schema import DATANOMMER_HEAD
from tests.archive_samples import (
    assert_reads_back,
    datanommer_reading,
    first_of_each,
    sample_records,
)

WHEN = datetime.datetime(2024, 3, 1, 12, 30, 15, 250000, tzinfo=datetime.UTC)


def _record(n: int, **fields: object) -> ArchiveRecord:
    values: dict[str, object] = {
        "topic": f"org.fedoraproject.prod.bodhi.update.{n}",
        "body": {"n": n},
        "timestamp": WHEN,
        "msg_id": f"id-{n}",
    }
    values.update(fields)
    return ArchiveRecord(**values)  # type: ignore[arg-type]


def _rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query).fetchall()


@pytest.fixture
def archive(tmp_path: Path) -> ArchiveStore:
    store = ArchiveStore(str(tmp_path / "archive.sqlite")).open()
    yield store  # type: ignore[misc]
    store.close()


def test_samples_read_back_by_datanommers_own_grep(tmp_path: Path) -> None:
    """The 401 samples: 331 stored, 70 skipped (a (msg_id, timestamp) seen before), and
    datanommer's Message.grep by topic, category and user returns exactly the stored ones."""
    path = tmp_path / "archive.sqlite"
    store = ArchiveStore(f"sqlite:///{path}").open()
    records = sample_records()
    assert store.write(records) == (331, 70)
    store.close()
    with datanommer_reading(f"sqlite:///{path}"):
        checked = assert_reads_back(first_of_each(records))
    assert checked["topics"] > 100 and checked["categories"] > 20 and checked["users"] > 10


def test_same_batch_twice_leaves_one_row_each(archive: ArchiveStore, tmp_path: Path) -> None:
    """A batch written again is all skipped: no second row, no second link, no error."""
    batch = [_record(n, usernames=("ralph", "pingou"), packages=("kernel",)) for n in range(5)]
    assert archive.write(batch) == (5, 0)
    assert archive.write(batch) == (0, 5)
    assert archive.write([*batch, _record(5)]) == (1, 5)
    path = tmp_path / "archive.sqlite"
    assert _rows(path, "SELECT count(*), count(DISTINCT id) FROM messages") == [(6, 6)]
    assert _rows(path, "SELECT count(*) FROM users_messages") == [(10,)]
    assert _rows(path, "SELECT count(*) FROM packages_messages") == [(5,)]
    assert _rows(path, "SELECT name FROM users ORDER BY name") == [("pingou",), ("ralph",)]


def test_duplicates_within_one_batch_are_skipped(archive: ArchiveStore) -> None:
    """Two records with one (msg_id, timestamp) in a batch: the first is stored, one skipped."""
    assert archive.write([_record(1), _record(1, topic="org.other.prod.x.y")]) == (1, 1)


def test_row_is_datanommers_shape(archive: ArchiveStore, tmp_path: Path) -> None:
    """Timestamp naive UTC, category from the topic, msg as JSON text, our source name."""
    later = WHEN.astimezone(datetime.timezone(datetime.timedelta(hours=-5)))
    archive.write([_record(1, timestamp=later, headers={"sent-at": "x"}, agent_name="ralph")])
    row = _rows(tmp_path / "archive.sqlite", "SELECT timestamp, category, msg, headers, "
                "agent_name, source_name, i FROM messages")  # fmt: skip
    assert row == [("2024-03-01 12:30:15.250000", "bodhi", '{"n": 1}', '{"sent-at": "x"}',
                    "ralph", "consumer-hub", 0)]  # fmt: skip


def test_new_database_is_stamped_with_datanommers_head(tmp_path: Path) -> None:
    """open() creates the schema once and stamps alembic_version; reopening only checks it."""
    path = tmp_path / "archive.sqlite"
    first = ArchiveStore(str(path)).open()
    assert first.created and not first.hypertable
    first.close()
    again = ArchiveStore(str(path)).open()
    assert not again.created
    again.close()
    assert _rows(path, "SELECT version_num FROM alembic_version") == [(DATANOMMER_HEAD,)]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("ALTER TABLE messages ADD COLUMN extra TEXT",
         "table messages: column extra is not in datanommer's schema"),
        ("DROP INDEX ix_messages_topic", "table messages: index ix_messages_topic is missing"),
        ("DROP TABLE packages_messages", "table packages_messages is missing"),
        ("UPDATE alembic_version SET version_num = '429e6f2cba6f'",
         "alembic_version is ['429e6f2cba6f'], expected ['f4fdb5442d05']"),
    ],
)  # fmt: skip
def test_differing_schema_is_refused_naming_it(tmp_path: Path, change: str, named: str) -> None:
    """An existing database whose schema differs is refused, naming what differs."""
    path = tmp_path / "archive.sqlite"
    ArchiveStore(str(path)).open().close()
    with sqlite3.connect(path) as conn:
        conn.execute(change)
    with pytest.raises(ArchiveSchemaMismatch) as caught:
        ArchiveStore(str(path)).open()
    assert caught.value.differences == [named]
    assert named in str(caught.value)


def test_other_tables_alone_are_not_a_schema(tmp_path: Path) -> None:
    """A database with unrelated tables only gets the archive's tables beside them."""
    path = tmp_path / "archive.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    store = ArchiveStore(str(path)).open()
    assert store.created
    store.close()


def test_unreachable_database_is_archive_unavailable(tmp_path: Path) -> None:
    """A database file that cannot be opened raises ArchiveUnavailable (the consumer retries)."""
    with pytest.raises(ArchiveUnavailable, match="unable to open database file"):
        ArchiveStore(str(tmp_path / "missing-dir" / "archive.sqlite")).open()
