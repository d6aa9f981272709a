"""hub.routing.topics: glob semantics and the upstream subscription prefixes."""

from __future__ import annotations

import pytest

from hub.routing.topics import TopicMatcher, literal_prefix, subscriptions


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("org.fedoraproject.prod.*", "org.fedoraproject.prod.bodhi.update.comment", True),
        ("org.fedoraproject.prod.*", "org.fedoraproject.stg.bodhi.update.comment", False),
        ("org.fedoraproject.*.buildsys.build.state.change",
         "org.fedoraproject.prod.buildsys.build.state.change", True),
        ("*", "anything.at.all", True),
        ("org.fedoraproject.prod.bodhi", "org.fedoraproject.prod.bodhi.update", False),
        ("a.?.c", "a.b.c", True),
        ("a.[xy].c", "a.z.c", False),
    ],
)  # fmt: skip
def test_star_matches_across_dots_like_moksha(pattern: str, topic: str, expected: bool) -> None:
    """`*` spans dots, `?` one character, `[..]` a set; the rest is literal."""
    assert TopicMatcher([pattern]).matches(topic) is expected


def test_empty_pattern_list_is_refused() -> None:
    """A consumer with no topics is an error, not a consumer of nothing."""
    with pytest.raises(ValueError):
        TopicMatcher([])


def test_subscriptions_keep_only_the_covering_prefixes() -> None:
    """Prefixes covered by a shorter one are dropped; a leading wildcard means everything."""
    assert literal_prefix("org.fedoraproject.*.bodhi") == "org.fedoraproject."
    assert subscriptions(["org.fedoraproject.prod.*", "org.fedoraproject.*", "io.pagure.x"]) == [
        "io.pagure.x",
        "org.fedoraproject.",
    ]
    assert subscriptions(["org.x.*", "*"]) == [""]
