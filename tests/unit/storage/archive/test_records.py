"""hub.storage.archive.records: category, naive UTC timestamps and stored msg_ids."""

from __future__ import annotations

import datetime

import datanommer.models as dm
import pytest

from hub.storage.archive.records import ArchiveRecord, category, naive_utc, record_msg_id
from tests.archive_samples import sample_records


def test_category_is_datanommers_on_every_sample(capsys: pytest.CaptureFixture[str]) -> None:
    """Our category equals the one datanommer's own Message sets, for all 401 sample topics."""
    topics = [record.topic for record in sample_records()]
    assert len(topics) == 401
    theirs = [dm.Message(topic=topic).category for topic in topics]
    assert [category(topic) for topic in topics] == theirs
    assert "Unclassified" in theirs  # fedoracollege.content.edit has no fourth part


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("org.fedoraproject.prod.bodhi.update.comment", "bodhi"),
        ("/topic/VirtualTopic.eng.ci.koji-build.test.complete", "ci"),
        ("org.fedoraproject.prod", "Unclassified"),
        ("org.fedoraproject.prod.", ""),
    ],
)
def test_category_edge_cases_match_datanommer(topic: str, expected: str) -> None:
    """VirtualTopic counts from the third part; too few parts is Unclassified; empty stays."""
    assert category(topic) == expected == dm.Message(topic=topic).category


def test_naive_utc_converts_aware_and_keeps_naive() -> None:
    """An aware time becomes the same instant as naive UTC; a naive one is taken as UTC."""
    tz = datetime.timezone(datetime.timedelta(hours=2))
    aware = datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=tz)
    assert naive_utc(aware) == datetime.datetime(2024, 5, 1, 10, 0, 0, 123456)
    naive = datetime.datetime(2024, 5, 1, 12, 0)
    assert naive_utc(naive) is naive


def test_msg_id_kept_or_derived_stably_from_content() -> None:
    """A record's msg_id is kept; without one, the same content gives the same id, other not."""
    when = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    base = ArchiveRecord(topic="org.x.prod.a.b", body={"k": 1, "j": [2]}, timestamp=when)
    assert record_msg_id(ArchiveRecord(topic="t", body={}, timestamp=when, msg_id="m-1")) == "m-1"
    same = ArchiveRecord(topic="org.x.prod.a.b", body={"j": [2], "k": 1}, timestamp=when)
    assert record_msg_id(base) == record_msg_id(same)
    other = ArchiveRecord(topic="org.x.prod.a.b", body={"k": 2, "j": [2]}, timestamp=when)
    assert record_msg_id(base) != record_msg_id(other)
    assert record_msg_id(ArchiveRecord(topic="t", body={}, timestamp=when, msg_id="")) != ""
