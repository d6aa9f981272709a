"""hub.storage.archive.query and .reader on the real PostgreSQL: the samples read back filter by
filter as datanommer's own grep reads them there, page by page, and topic globs (LIKE, and ~
where a set needs it) select exactly what the hub's TopicMatcher routes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Connection, MetaData, Table, Unicode, create_engine, select

from hub.routing.topics import TopicMatcher
from hub.storage.archive import ArchiveStore
from hub.storage.archive.errors import ArchiveMissing
from hub.storage.archive.globs import glob_condition
from hub.storage.archive.query import Query
from hub.storage.archive.reader import ArchiveReader
from tests.archive_queries import CASES, assert_same_as_datanommer
from tests.archive_samples import datanommer_reading, sample_records
from tests.integration.servers.postgresql import PostgreSQL

pytestmark = pytest.mark.integration

TOPICS = ["org.fedoraproject.prod.bodhi.update", "org.fedoraproject.PROD.bodhi.x", "a%b",
          "a_b", "axb", "a\\b", "a*b", "a?b", "a[b", "a]b", "a-b", "a!b", "a^b", "line\nbreak",
          "ü.x"]  # fmt: skip
metadata = MetaData()
table = Table("globs", metadata, Column("topic", Unicode))


@pytest.fixture(scope="module")
def samples(postgresql: PostgreSQL) -> Iterator[ArchiveReader]:
    """The samples written by ArchiveStore into one database, datanommer bound to it too."""
    url = postgresql.url(postgresql.create_database())
    store = ArchiveStore(url).open()
    store.write(sample_records())
    store.close()
    reader = ArchiveReader(url).open()
    with datanommer_reading(url):
        yield reader
    reader.close()


@pytest.mark.parametrize("case", list(CASES))
def test_filters_read_what_datanommer_greps(samples: ArchiveReader, case: str) -> None:
    """Each filter kind, ORed values, negations, ANDed kinds, a time range, a msg_id: the same
    messages as datanommer's grep on PostgreSQL, in order, with the same totals and pages."""
    assert assert_same_as_datanommer(samples, CASES[case]) > 0


def test_users_of_each_message(samples: ArchiveReader) -> None:
    """Names come back with their messages on PostgreSQL too."""
    assert sum(bool(m.users) for m in samples.messages(Query())) > 100


@pytest.fixture(scope="module")
def globs(postgresql: PostgreSQL) -> Iterator[Connection]:
    engine = create_engine(postgresql.url(postgresql.create_database()))
    with engine.connect() as conn:
        metadata.create_all(conn)
        conn.execute(table.insert(), [{"topic": t} for t in TOPICS])
        yield conn
    engine.dispose()


def _selected(conn: Connection, pattern: str) -> list[str]:
    condition = glob_condition(table.c.topic, pattern, "postgresql")
    return sorted(conn.execute(select(table.c.topic).where(condition)).scalars())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pattern=st.text(alphabet="ab.*?[]!-^%_\\\n", max_size=7))
def test_globs_select_what_topicmatcher_matches(globs: Connection, pattern: str) -> None:
    """Generated globs over topics holding every special character: PostgreSQL's LIKE and ~
    select exactly the topics TopicMatcher matches (case-sensitive, sets, escapes)."""
    assert _selected(globs, pattern) == sorted(
        t for t in TOPICS if TopicMatcher([pattern]).matches(t)
    )


def test_an_empty_database_is_no_archive(postgresql_db: str) -> None:
    """A database without the tables: ArchiveMissing, and no table is created."""
    with pytest.raises(ArchiveMissing, match="it has no messages table"):
        ArchiveReader(postgresql_db).open()
    engine = create_engine(postgresql_db)
    with engine.connect() as conn:
        assert (
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).scalar()
            == 0
        )
    engine.dispose()
