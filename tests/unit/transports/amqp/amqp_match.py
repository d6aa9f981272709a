"""A reference AMQP topic matcher (the spec's rules, word by word) for the binding tests.

Runs in the pytest process. RabbitMQ splits keys and topics on every dot, keeping empty words.
"""

from __future__ import annotations

from functools import cache


def amqp_matches(key: str, topic: str) -> bool:
    """True when binding ``key`` matches routing key ``topic`` on a topic exchange."""
    return _match(tuple(key.split(".")), tuple(topic.split(".")))


@cache
def _match(key: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not key:
        return not words
    head, rest = key[0], key[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _match(rest, words[1:])
