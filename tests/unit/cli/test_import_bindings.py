"""hub.cli.import_bindings: AMQP routing keys as topic globs, checked against AMQP's matching."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from hub.cli.import_bindings import key_globs
from hub.errors import ConfigError
from hub.routing.topics import TopicMatcher


def amqp_matches(key: list[str], topic: list[str]) -> bool:
    """AMQP 0-9-1 topic matching, word by word: ``*`` one word, ``#`` zero or more."""
    if not key:
        return not topic
    head, rest = key[0], key[1:]
    if head == "#":
        return any(amqp_matches(rest, topic[i:]) for i in range(len(topic) + 1))
    if not topic:
        return False
    return (head == "*" or head == topic[0]) and amqp_matches(rest, topic[1:])


@pytest.mark.parametrize(
    ("key", "globs", "exact"),
    [
        ("#", ("*",), True),
        (
            "org.fedoraproject.prod.bodhi.#",
            ("org.fedoraproject.prod.bodhi", "org.fedoraproject.prod.bodhi.*"),
            True,
        ),
        ("#.bodhi", ("bodhi", "*.bodhi"), True),
        ("a.#.b", ("a.b", "a.*.b"), True),
        ("a.*.#", ("a.*",), True),
        ("a.*.*.#", ("a.*.*",), True),
        ("a.*", ("a.*",), False),
        ("org.fedoraproject.*.buildsys.tag", ("org.fedoraproject.*.buildsys.tag",), False),
        ("a.b*c.d", ("a.b[*]c.d",), True),
        ("a.#.#.b", ("a.b", "a.*.b"), True),
    ],
)
def test_documented_keys(key: str, globs: tuple[str, ...], exact: bool) -> None:
    """'#' as a word is zero or more words (a.# is a and a.*); a one-word '*' is broader."""
    translated = key_globs(key)
    assert (translated.globs, translated.exact) == (globs, exact)


def test_too_many_hash_words_is_a_config_error() -> None:
    """Each '#' between literals doubles the globs, so past a bound the key is refused."""
    with pytest.raises(ConfigError, match="more than 6"):
        key_globs(".".join(["#", "a"] * 7))


WORDS = st.sampled_from(["a", "b", "", "*", "#"])
TOPIC_WORDS = st.sampled_from(["a", "b", ""])


@given(st.lists(WORDS, min_size=1, max_size=5), st.lists(TOPIC_WORDS, min_size=1, max_size=5))
@example([""], ["a"])
@example(["", "#"], ["", "a"])
def test_globs_match_what_the_key_matches(key: list[str], topic: list[str]) -> None:
    """Every non-empty topic the key matches matches a glob; when exact, no other topic does
    (the empty topic is left out: no glob is empty)."""
    assume(topic != [""])
    translated = key_globs(".".join(key))
    glob_match = bool(translated.globs) and TopicMatcher(translated.globs).matches(".".join(topic))
    if amqp_matches(key, topic):
        assert glob_match
    elif translated.exact:
        assert not glob_match
