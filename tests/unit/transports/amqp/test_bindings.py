"""hub.transports.amqp.bindings: every row of the glob -> binding key table, and soundness."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hub.routing.topics import TopicMatcher
from hub.transports.amqp.bindings import MAX_KEY_BYTES, binding_for, binding_keys
from hub.transports.amqp.errors import GlobNotBindable
from tests.unit.transports.amqp.amqp_match import amqp_matches

# (glob, binding key, exact): the module docstring's tables, word rows then whole globs.
TABLE = [
    ("org.fedoraproject.prod.bodhi", "org.fedoraproject.prod.bodhi", True),
    ("a..b", "a..b", True),
    ("", "", True),
    ("a.*.b", "a.*.#.b", True),
    ("a.**.b", "a.*.#.b", True),
    ("a.#.b", "a.#.b", False),
    ("a.b#c.d", "a.b#c.d", True),
    ("a.up*.b", "a.*.#.b", False),
    ("a.*up.b", "a.*.#.b", False),
    ("a.b?c.d", "a.*.#.d", False),
    ("a.[.x].d", "a.*.#.d", False),
    ("a.[!x].d", "a.*.#.d", False),
    ("a.[xy].d", "a.*.d", False),
    ("a.[x-z]1.d", "a.*.d", False),
    ("a.[x.d", "a.[x.d", True),
    ("*", "#", True),
    ("a.b.*", "a.b.*.#", True),
    ("org.fedoraproject.*.buildsys.x", "org.fedoraproject.*.#.buildsys.x", True),
    ("*.bodhi.update", "*.#.bodhi.update", True),
    ("a.*.*", "a.*.*.#", True),
    ("org.fedoraproject.*.bodhi.update*", "org.fedoraproject.*.#.bodhi.*.#", False),
    ("*bodhi*", "#", False),
    ("?", "#", False),
    ("a.[xy].[xy]", "a.*.*", False),
]


@pytest.mark.parametrize(("glob", "key", "exact"), TABLE)
def test_each_table_row_maps_to_its_key(glob: str, key: str, exact: bool) -> None:
    """Each documented glob gets its documented key, exact or broader as the table says."""
    binding = binding_for(glob)
    assert (binding.key, binding.exact) == (key, exact)
    assert bool(binding.reason) is not exact


@pytest.mark.parametrize(
    ("glob", "topic", "glob_matches", "key_matches"),
    [
        ("a.b.*", "a.b", False, False),  # the reason a.b.* is not a.b.#
        ("a.b.*", "a.b.", True, True),  # our * may be empty; AMQP's * an empty word
        ("a.b.*", "a.b.c.d", True, True),
        ("a.*.b", "a..b", True, True),
        ("a.*.b", "a.x.y.b", True, True),
        ("a.*.b", "a.b", False, False),
        ("org.fedoraproject.*.bodhi.update*", "org.fedoraproject.prod.bodhi.comment", False, True),
        ("a.b?c.d", "a.b.c.d", True, True),  # ? matched the dot: two words
        ("a.[xy].d", "a.z.d", False, True),
        ("a.#.b", "a.x.y.b", False, True),
    ],
)  # fmt: skip
def test_where_a_key_is_broader_only_the_glob_filter_drops(
    glob: str, topic: str, glob_matches: bool, key_matches: bool
) -> None:
    """The cases the table explains: what the key lets through beside what the glob keeps."""
    assert TopicMatcher([glob]).matches(topic) is glob_matches
    assert amqp_matches(binding_for(glob).key, topic) is key_matches


def test_strict_refuses_a_broader_glob_naming_it() -> None:
    """strict=True refuses a glob AMQP can only over-approximate; the error names the glob."""
    assert binding_for("a.b.*", strict=True).key == "a.b.*.#"
    with pytest.raises(GlobNotBindable, match=r"'org\.x\.update\*'.*'org\.x\.\*\.#'"):
        binding_for("org.x.update*", strict=True)


def test_a_glob_no_amqp_key_can_hold_is_refused() -> None:
    """A lone surrogate cannot be UTF-8, so no binding key: refused, as a configuration error."""
    with pytest.raises(GlobNotBindable, match="not valid UTF-8") as info:
        binding_for("a.\udc80")
    assert info.value.glob == "a.\udc80" and info.value.exit_code == 3


def test_a_key_over_255_bytes_is_cut_after_a_word_and_ends_in_hash() -> None:
    """Too long for AMQP: kept up to a word boundary, then '#': broader, never too narrow."""
    glob = ".".join(["word" * 10] * 10)  # 409 characters
    binding = binding_for(glob)
    assert len(binding.key.encode()) <= MAX_KEY_BYTES and binding.key.endswith(".#")
    assert not binding.exact and "255 bytes" in binding.reason
    assert amqp_matches(binding.key, glob)


def test_a_consumers_keys_are_distinct_and_hash_covers_all() -> None:
    """Duplicate keys are bound once; a glob binding '#' makes every other key redundant."""
    assert binding_keys(["a.b.*", "a.b.*", "c"]) == ("a.b.*.#", "c")
    assert binding_keys(["a.b", "*"]) == ("#",)


GLOB_CHARS = st.sampled_from(["a", "b", ".", "*", "?", "[a]", "[.]", "[!a]", "#", "[", "]"])
TOPIC_CHARS = st.sampled_from(["a", "b", ".", "#"])
GLOBS = st.lists(GLOB_CHARS, max_size=8).map("".join)
TOPICS = st.lists(TOPIC_CHARS, max_size=8).map("".join)


@settings(max_examples=3000, deadline=None)
@given(glob=GLOBS, topic=TOPICS)
@example(glob="a.*", topic="a.")
@example(glob="*.a", topic=".a")
def test_every_key_is_sound_and_exact_keys_are_exact(glob: str, topic: str) -> None:
    """No topic the glob matches is ever missed by its key; an 'exact' key matches no more."""
    binding = binding_for(glob)
    glob_matches = TopicMatcher([glob]).matches(topic)
    key_matches = amqp_matches(binding.key, topic)
    if glob_matches:
        assert key_matches, (glob, binding.key, topic)
    if binding.exact:
        assert key_matches == glob_matches, (glob, binding.key, topic)
