"""The archive read back by our `ArchiveReader` and by datanommer.models' own ``Message.grep()``
on the same database, filter by filter: shared by the SQLite (unit) and PostgreSQL (integration)
tests of hub.storage.archive.query.

Runs in the pytest process; datanommer is bound with `tests.archive_samples.datanommer_reading`.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from typing import Any

import datanommer.models as dm

from hub.storage.archive.query import Query
from hub.storage.archive.reader import ArchivedMessage, ArchiveReader

START = datetime.datetime(2013, 1, 1)
END = datetime.datetime(2016, 6, 30, 12, 0, 0)

# each a Query whose filters datanommer's grep() takes under the same names (it needs start and
# end together; its topics are exact, as ours are without a wildcard)
CASES: dict[str, Query] = {
    "everything": Query(),
    "one category": Query(categories=("bodhi",)),
    "categories ORed": Query(categories=("bodhi", "pagure", "no-such")),
    "users ORed": Query(users=("ralph", "pingou")),
    "a package": Query(packages=("valgrind", "texlive")),
    "exact topics": Query(
        topics=("org.fedoraproject.prod.bodhi.update.comment", "org.fedoraproject.prod.git.receive")
    ),
    "an agent": Query(agents=("apache",)),
    "contains": Query(contains=("kernel",), categories=("bodhi", "pkgdb", "git")),
    "not categories": Query(not_categories=("compose", "ci")),
    "not users": Query(not_users=("ralph",)),
    "not packages": Query(not_packages=("valgrind",)),
    "not topics": Query(not_topics=("org.fedoraproject.prod.bodhi.update.comment",)),
    "not agents": Query(not_agents=("apache",)),
    "a time range": Query(start=START, end=END),
    "kinds ANDed": Query(
        categories=("pagure", "bodhi"), not_users=("pingou",), start=START, end=END
    ),
    "by msg_id": Query(msg_id="2019-2656349c-2c41-48bd-9b66-31b3cd9a5aa9"),
}


def datanommer_filters(query: Query) -> dict[str, Any]:
    """``query`` as keyword arguments of datanommer's ``Message.grep()``."""
    values = dataclasses.asdict(query)
    values.pop("order")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items() if v}


def key(message: Any) -> tuple[str, datetime.datetime]:
    """(msg_id, timestamp) of one of ours or one of datanommer's messages."""
    return (message.msg_id, message.timestamp)


def theirs(
    query: Query, order: str = "desc", page: int = 1, rows: int = 0
) -> tuple[int, int, list[Any]]:
    """datanommer's ``grep()``: ``(total, pages, messages)``; ``rows`` 0 is every message."""
    filters = datanommer_filters(query)
    found: tuple[int, int, list[Any]] = dm.Message.grep(
        order=order, page=page, rows_per_page=rows, **filters
    )
    return found


def assert_same_as_datanommer(reader: ArchiveReader, query: Query) -> int:
    """Every message ``query`` reads is one datanommer's grep returns and back, in the same
    timestamp order, and page by page likewise; returns how many matched."""
    total, _pages, messages = theirs(query)
    ours: list[ArchivedMessage] = list(reader.messages(query))
    assert sorted(map(key, ours)) == sorted(map(key, messages))
    assert [m.timestamp for m in ours] == [m.timestamp for m in messages]
    assert reader.count(query) == total == len(ours)
    for order in ("asc", "desc"):
        asked = dataclasses.replace(query, order=order)
        rows = 7
        their_total, pages, _ = theirs(asked, order, 1, rows)
        assert pages == math.ceil(their_total / rows) and their_total == total
        for page in range(1, pages + 2):  # one past the end: empty on both
            _t, _p, their_page = theirs(asked, order, page, rows)
            our_page = reader.page(asked, page, rows)
            assert [m.timestamp for m in our_page] == [m.timestamp for m in their_page]
    return total
