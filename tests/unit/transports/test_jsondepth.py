"""hub.transports.jsondepth: the nesting depth of JSON told from its bytes, exactly."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from hub.transports.jsondepth import deeper_than


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def tree(rng: random.Random, height: int) -> Any:
    """A random document whose strings are full of brackets, quotes and backslashes."""
    if height == 0:
        return rng.choice(['a{[\\"', 1, "\\\\", "x]}", None, '"]"'])
    child = tree(rng, height - 1)
    wide = [tree(rng, rng.randint(0, height - 1)) for _ in range(rng.randint(0, 3))]
    return rng.choice([{'k"{': child, "z": wide}, [*wide, child, "]]"]])


def test_random_documents_agree_with_their_decoded_depth() -> None:
    """For 2,000 random documents, short and long, deeper_than is exact at every limit."""
    rng = random.Random(19)
    for _ in range(2000):
        document = tree(rng, rng.randint(0, 14))
        for payload in (orjson.dumps(document), json.dumps(document).encode()):
            for limit in (0, 1, 3, 6, 13):
                assert deeper_than(payload, limit) == (depth(document) > limit), payload


@pytest.mark.parametrize(
    ("payload", "limit", "deeper"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 64, True),  # one long run: the running sum
        (orjson.dumps([[1]] * 50_000), 64, False),
        (b'{"a": "[[[[[[[[[[[["}', 2, False),  # brackets in a string do not count
        (b"[[[[}", 2, False),  # unbalanced: left to the decoder
    ],
)
def test_edge_cases(payload: bytes, limit: int, deeper: bool) -> None:
    """Long inputs, brackets inside strings and unbalanced input."""
    assert deeper_than(payload, limit) is deeper
