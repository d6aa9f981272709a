"""hub.storage.archive.globs: our topic globs as SQL select exactly the topics TopicMatcher
matches (SQLite here, PostgreSQL in tests/integration/storage/test_archive_query_postgresql.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Connection, MetaData, Table, Unicode, create_engine, select
from sqlalchemy.dialects import postgresql

from hub.routing.topics import TopicMatcher
from hub.storage.archive.globs import glob_condition, has_wildcard, literal, regex, tokens

TOPICS = ["org.fedoraproject.prod.bodhi.update.comment", "org.fedoraproject.PROD.bodhi.x",
          "org.fedoraproject.stg.wiki.upload", "a%b", "a_b", "axb", "a\\b", "a*b", "a?b", "a[b",
          "a]b", "a-b", "a!b", "a^b", "line\nbreak", "ünïcode.topic", "", "a.b.c"]  # fmt: skip
PATTERNS = st.text(alphabet="ab.*?[]!-^%_\\A\n", max_size=8)
NAMES = st.lists(st.text(alphabet="abAB.*?[]!-^%_\\\n", max_size=6), max_size=8)

metadata = MetaData()
table = Table("t", metadata, Column("topic", Unicode))


@pytest.fixture(scope="module")
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        metadata.create_all(connection)
        yield connection
    engine.dispose()


def _selected(conn: Connection, pattern: str, topics: list[str]) -> list[str]:
    conn.execute(table.delete())
    if topics:
        conn.execute(table.insert(), [{"topic": t} for t in topics])
    query = select(table.c.topic).where(glob_condition(table.c.topic, pattern, "sqlite"))
    return sorted(conn.execute(query).scalars())


def _expected(pattern: str, topics: list[str]) -> list[str]:
    return sorted(t for t in topics if TopicMatcher([pattern]).matches(t))


@pytest.mark.parametrize("pattern", ["org.fedoraproject.prod.*", "*.bodhi.*", "*", "a%b",
                                     "a_b", "a?b", "a[*]b", "a[!x]b", "a[]]b", "a[!]b]", "a[b",
                                     "a[a-c]b", "a[z-a]b", "a[!z-a]b", "a[-x]b", "a[x-]b", "a\\b",
                                     "*break", "ü*", "org.fedoraproject.prod.bodhi.*.comment",
                                     "a[^x]b", "?.b.?"])  # fmt: skip
def test_known_patterns_select_what_topicmatcher_matches(conn: Connection, pattern: str) -> None:
    """Stars across dots, case, LIKE's own % and _, sets, ranges, negation, escapes, newline."""
    assert _selected(conn, pattern, TOPICS) == _expected(pattern, TOPICS)


@settings(max_examples=400, deadline=None)
@given(pattern=PATTERNS, topics=NAMES)
def test_any_pattern_selects_what_topicmatcher_matches(
    conn: Connection, pattern: str, topics: list[str]
) -> None:
    """Generated globs and topics from the characters that are special somewhere (glob, LIKE,
    regex): SQL selects exactly the topics the hub's own matcher routes."""
    assert _selected(conn, pattern, topics) == _expected(pattern, topics)


def test_a_literal_topic_is_an_equality() -> None:
    """A glob without wildcards, and `literal()` of any topic, compile to topic = value."""
    assert not has_wildcard("org.fedoraproject.prod.bodhi.update")
    for topic in ("a*b?c[d", "plain.topic"):
        assert not has_wildcard(literal(topic))
        assert tokens(literal(topic)) == [topic]
    condition = glob_condition(table.c.topic, literal("a*b"), "postgresql")
    assert str(condition.compile()) == "t.topic = :topic_1"


def test_postgresql_uses_like_alone_without_a_set() -> None:
    """On PostgreSQL (case-sensitive LIKE) * and ? need no regular expression; a set does."""
    plain = str(glob_condition(table.c.topic, "org.*.x?", "postgresql").compile())
    assert "LIKE" in plain and "REGEXP" not in plain.upper() and "~" not in plain
    with_set = glob_condition(table.c.topic, "org.[ab]*", "postgresql")
    assert "~" in str(with_set.compile(dialect=postgresql.dialect()))


def test_regex_is_anchored_and_escaped() -> None:
    """The regular expression matches the whole topic and escapes punctuation."""
    assert regex(tokens("a.*[!b-d]")) == "(?s)\\Aa\\..*[^b-d]\\Z"
