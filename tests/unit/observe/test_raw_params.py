"""hub.observe.raw_params: datagrepper 1.x's /raw parameters: the same defaults, time ranges,
repeatable filters, exact topics and limits, its arguments echo, and every refusal naming the
parameter."""

from __future__ import annotations

import datetime

import pytest

from hub.observe.raw_params import BadParameter, parse, timerange
from hub.storage.archive.query import Query

NOW = 1_709_294_400.0  # 2024-03-01 12:00:00 UTC
UTC = datetime.UTC


def _at(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, UTC)


def test_defaults_are_datagreppers() -> None:
    """No parameters: no time bounds (DEFAULT_QUERY_DELTA 0), page 1 of 25, newest first; the
    echo carries every argument datagrepper's does, under its names."""
    asked = parse({}, NOW)
    assert asked.query == Query() and (asked.page, asked.rows_per_page) == (1, 25)
    assert asked.arguments == {
        "start": None, "delta": None, "end": None, "users": [], "packages": [],
        "categories": [], "topics": [], "agents": [], "contains": [], "not_users": [],
        "not_packages": [], "not_categories": [], "not_topics": [], "not_agents": [],
        "page": 1, "rows_per_page": 25, "order": "desc", "meta": [],
    }  # fmt: skip


@pytest.mark.parametrize(("given", "expected"), [
    ((None, None, None), (None, None, None)),
    ((None, None, 60.0), (NOW - 60, NOW, 60.0)),
    ((None, NOW - 10, None), (0.0, NOW - 10, None)),
    ((None, NOW - 10, 60.0), (NOW - 70, NOW - 10, 60.0)),
    ((NOW - 100, None, None), (NOW - 100, NOW, 100.0)),
    ((NOW - 100, None, 30.0), (NOW - 100, NOW - 70, 30.0)),
    ((NOW - 100, NOW - 50, None), (NOW - 100, NOW - 50, 50.0)),
    ((NOW - 100, NOW - 50, 5.0), (NOW - 100, NOW - 50, 50.0)),  # delta overridden
])  # fmt: skip
def test_timerange_is_assemble_timerange(
    given: tuple[float | None, ...], expected: tuple[float | None, ...]
) -> None:
    """All eight combinations of start, end and delta, as datagrepper assembles them."""
    assert timerange(*given, NOW) == expected


def test_times_filters_and_paging_become_the_query() -> None:
    """Epoch or ISO times, repeated filters ORed, exact topics, the page asked for."""
    asked = parse({"start": ["2024-03-01T00:00:00Z"], "end": ["1709290800"],
                   "user": ["ralph", "pingou"], "topic": ["org.x.a*b"], "not_category": ["ci"],
                   "agent": ["bodhi"], "page": ["3"], "rows_per_page": ["100"],
                   "order": ["asc"]}, NOW)  # fmt: skip
    query = asked.query
    assert (query.start, query.end) == (_at(1709251200), _at(1709290800))
    assert query.users == ("ralph", "pingou") and query.agents == ("bodhi",)
    assert query.topics == ("org.x.a[*]b",)  # datagrepper's topic= is exact, * included
    assert query.not_categories == ("ci",) and query.order == "asc"
    assert (asked.page, asked.rows_per_page) == (3, 100)
    assert asked.arguments["topics"] == ["org.x.a*b"] and asked.arguments["delta"] == 39600.0


def test_delta_alone_is_the_last_seconds() -> None:
    """delta=3600: the hour before now."""
    query = parse({"delta": ["3600"]}, NOW).query
    assert (query.start, query.end) == (_at(NOW - 3600), _at(NOW))


@pytest.mark.parametrize(("args", "name", "text"), [
    ({"page": ["0"]}, "page", "page must be > 0"),
    ({"page": ["two"]}, "page", "page must be a whole number, not 'two'"),
    ({"rows_per_page": ["101"]}, "rows_per_page", "rows_per_page must be from 1 to 100"),
    ({"rows_per_page": ["0"]}, "rows_per_page", "rows_per_page must be from 1 to 100"),
    ({"order": ["newest"]}, "order", "order must be either 'desc' or 'asc'"),
    ({"delta": ["1h"]}, "delta", "delta must be a number of seconds, not '1h'"),
    ({"start": ["last week"]}, "start", "start must be a time"),
    ({"end": ["1e400"]}, "end", "end must be a time"),
    ({"contains": ["kernel"], "category": ["bodhi"]}, "contains",
     "specify a start at most eight months into the past"),
    ({"contains": ["kernel"], "delta": ["60"]}, "contains",
     "specify either a topic or a category as well"),
    ({"callback": ["f"]}, "callback", "JSONP"),
    ({"meta": ["title"]}, "meta", "not supported"),
])  # fmt: skip
def test_refusals_name_the_parameter(args: dict[str, list[str]], name: str, text: str) -> None:
    """Each bad parameter is a BadParameter naming it, with datagrepper's wording where it
    has one."""
    with pytest.raises(BadParameter, match=text) as caught:
        parse(args, NOW)
    assert caught.value.name == name


def test_contains_with_a_recent_start_and_a_category() -> None:
    """contains is accepted as datagrepper accepts it: a recent start, and a category."""
    asked = parse({"contains": ["kernel"], "category": ["bodhi"], "delta": ["86400"]}, NOW)
    assert asked.query.contains == ("kernel",) and asked.query.categories == ("bodhi",)


def test_the_first_value_of_a_single_parameter_counts() -> None:
    """page=2&page=5 is page 2 (datagrepper's request.args.get); unknown parameters, and
    datagrepper's HTML-only size and chrome, are ignored."""
    asked = parse({"page": ["2", "5"], "size": ["small"], "chrome": ["false"], "x": ["1"]}, NOW)
    assert asked.page == 2
