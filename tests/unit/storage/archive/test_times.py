"""hub.storage.archive.times: epoch seconds, ISO 8601 (UTC unless it says otherwise) and spans
back from now, each read into an aware UTC datetime; anything else is refused naming the forms."""

from __future__ import annotations

import datetime

import pytest

from hub.storage.archive.times import moment

NOW = datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)
UTC = datetime.UTC


@pytest.mark.parametrize(("text", "expected"), [
    ("1709294400", datetime.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)),
    ("1709294400.25", datetime.datetime(2024, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)),
    ("2024-03-01", datetime.datetime(2024, 3, 1, tzinfo=UTC)),
    ("2024-03-01T11:30:00Z", datetime.datetime(2024, 3, 1, 11, 30, tzinfo=UTC)),
    ("2024-03-01 11:30", datetime.datetime(2024, 3, 1, 11, 30, tzinfo=UTC)),
    ("2024-03-01T13:30:00+02:00", datetime.datetime(2024, 3, 1, 11, 30, tzinfo=UTC)),
    ("90s", NOW - datetime.timedelta(seconds=90)),
    ("30m", NOW - datetime.timedelta(minutes=30)),
    ("1h", NOW - datetime.timedelta(hours=1)),
    ("2d", NOW - datetime.timedelta(days=2)),
    ("1.5w", NOW - datetime.timedelta(days=10.5)),
])  # fmt: skip
def test_each_form_reads_as_utc(text: str, expected: datetime.datetime) -> None:
    """Each accepted form gives the aware UTC moment it names."""
    got = moment(text, NOW)
    assert got == expected and got.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize("text", ["yesterday", "1y", "-1h", "nan", "", "2024-13-01"])
def test_anything_else_is_refused_naming_the_forms(text: str) -> None:
    """A ValueError that quotes the text and lists what is accepted."""
    with pytest.raises(ValueError, match="epoch seconds, ISO 8601"):
        moment(text, NOW)


def test_spans_only_where_relative_times_are_allowed() -> None:
    """relative=False (datagrepper's start/end) refuses 1h, and does not offer it."""
    with pytest.raises(ValueError) as caught:
        moment("1h", NOW, relative=False)
    assert "span" not in str(caught.value)
