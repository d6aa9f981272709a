"""Topic patterns: which topics a consumer wants, and what the SUB socket subscribes to.

Runs on the main thread (compile, at start-up and reload) and the reactor (match).

Pattern syntax (shell-style globs, case-sensitive):
    ``*``      any run of characters, dots included: ``org.fedoraproject.prod.*`` matches
               ``org.fedoraproject.prod.bodhi.update.comment`` (moksha/fedmsg behaviour)
    ``?``      exactly one character
    ``[abc]``  one character of the set; ``[!abc]`` one not in it
    anything else matches itself. ``*`` alone matches every topic.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

_WILDCARDS = re.compile(r"[*?\[]")


class TopicMatcher:
    """A compiled set of glob patterns; ``matches(topic)`` is one regex search."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        if not self.patterns:
            raise ValueError("a consumer needs at least one topic pattern")
        joined = "|".join(f"(?:{fnmatch.translate(p)})" for p in self.patterns)
        self._regex = re.compile(joined)

    def matches(self, topic: str) -> bool:
        """True when ``topic`` matches any of the patterns."""
        return self._regex.match(topic) is not None


def literal_prefix(pattern: str) -> str:
    """The part of ``pattern`` before its first wildcard: what ZeroMQ can filter on."""
    found = _WILDCARDS.search(pattern)
    return pattern if found is None else pattern[: found.start()]


def subscriptions(patterns: Iterable[str]) -> list[str]:
    """The smallest set of SUB prefixes that lets through every topic the patterns match.

    ``[""]`` (everything) when any pattern starts with a wildcard.
    """
    prefixes = sorted({literal_prefix(p) for p in patterns})
    kept: list[str] = []
    for prefix in prefixes:  # sorted: a covering prefix comes before what it covers
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    return kept
