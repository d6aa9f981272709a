"""hub.storage.archive.query and .reader on SQLite: the 401 samples read back filter by filter
exactly as datanommer.models' own Message.grep() reads the same file, page by page."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator

import pytest

from hub.routing.topics import TopicMatcher
from hub.storage.archive import ArchiveStore
from hub.storage.archive.query import Query
from hub.storage.archive.reader import ArchiveReader
from tests.archive_queries import CASES, assert_same_as_datanommer
from tests.archive_samples import datanommer_reading, sample_records


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveReader]:
    """The samples written by ArchiveStore into one SQLite file, datanommer bound to it too."""
    path = tmp_path_factory.mktemp("archive") / "archive.sqlite"
    store = ArchiveStore(str(path)).open()
    store.write(sample_records())
    store.close()
    reader = ArchiveReader(str(path)).open()
    with datanommer_reading(f"sqlite:///{path}"):
        yield reader
    reader.close()


@pytest.mark.parametrize("case", list(CASES))
def test_filters_read_what_datanommer_greps(samples: ArchiveReader, case: str) -> None:
    """Each filter kind, ORed values, negations, ANDed kinds, a time range, a msg_id: the same
    messages as datanommer's grep, in the same order, the same totals and pages."""
    assert assert_same_as_datanommer(samples, CASES[case]) > 0


GLOBS = ["org.fedoraproject.prod.*", "*.bodhi.*", "*.stg.*", "org.fedoraproject.prod.[bc]*.update*",
         "*.?it.*", "*"]  # fmt: skip


@pytest.mark.parametrize("pattern", GLOBS)
def test_glob_topics_read_what_the_hub_routes(samples: ArchiveReader, pattern: str) -> None:
    """A glob selects exactly the stored messages whose topic TopicMatcher matches."""
    every = list(samples.messages(Query()))
    want = sorted(m.id for m in every if TopicMatcher([pattern]).matches(m.topic))
    got = sorted(m.id for m in samples.messages(Query(topics=(pattern,))))
    assert got == want and got
    negated = sorted(m.id for m in samples.messages(Query(not_topics=(pattern,))))
    assert sorted(got + negated) == sorted(m.id for m in every)


def test_start_and_end_are_inclusive_and_each_works_alone(samples: ArchiveReader) -> None:
    """start <= timestamp <= end, as datanommer's BETWEEN; one bound alone is a half range."""
    every = list(samples.messages(Query(order="asc")))
    when = every[100].timestamp
    assert samples.count(Query(start=when, end=when)) == sum(m.timestamp == when for m in every)
    assert samples.count(Query(start=when)) == sum(m.timestamp >= when for m in every)
    assert samples.count(Query(end=when)) == sum(m.timestamp <= when for m in every)
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    aware = when.replace(tzinfo=datetime.UTC).astimezone(plus_two)
    assert samples.count(Query(start=aware)) == samples.count(Query(start=when))


def test_newest_first_by_default_and_a_limit_keeps_the_newest(samples: ArchiveReader) -> None:
    """order desc is the default; messages(limit=N) is the first N of that order."""
    newest = list(samples.messages(Query(), limit=5))
    every = list(samples.messages(Query()))
    assert newest == every[:5]
    assert [m.timestamp for m in every] == sorted((m.timestamp for m in every), reverse=True)
    oldest = list(samples.messages(dataclasses.replace(Query(), order="asc"), limit=5))
    assert [m.timestamp for m in oldest] == sorted(m.timestamp for m in every)[:5]


def test_users_and_packages_come_with_each_message(samples: ArchiveReader) -> None:
    """Each message carries its users' and packages' names, sorted, as datanommer's as_dict."""
    records = {(r.msg_id, r.topic): r for r in sample_records() if r.usernames or r.packages}
    checked = 0
    for message in samples.messages(Query()):
        record = records.get((message.msg_id, message.topic))
        if record is not None:
            assert message.users == record.usernames and message.packages == record.packages
            checked += 1
    assert checked > 50


def test_a_bad_order_is_refused() -> None:
    """Query(order=...) is asc or desc; anything else is a ValueError naming both."""
    with pytest.raises(ValueError, match="desc, asc"):
        Query(order="newest")


def test_page_numbers_start_at_one(samples: ArchiveReader) -> None:
    """Page 0 or 0 rows is a ValueError, not an empty or unbounded answer."""
    with pytest.raises(ValueError):
        samples.page(Query(), 0, 10)
    with pytest.raises(ValueError):
        samples.page(Query(), 1, 0)
