"""``import-config`` of fedora-messaging: AMQP routing keys as the hub's topic globs.

Runs on the CLI's main thread. Pure: no I/O.

A routing key is words split on dots: ``#`` is zero or more words, ``*`` exactly one, anything
else a literal word. Our glob ``*`` is any run of characters, dots included (docs/amqp.md). A
run of wildcard words becomes one glob part:

- ``k`` ``*`` words and a ``#`` (k >= 1): "k words or more" is ``k`` ``*`` joined by dots, exact
  (``*.*`` needs a dot, so two words or more);
- ``#`` alone: "zero words" (the run and its dot gone) or "one or more" (``*``), so
  ``a.#`` is both ``a`` and ``a.*``; ``#`` as the whole key is ``*``;
- ``k`` ``*`` words without ``#``: "exactly k words" has no glob: ``k`` ``*`` joined by dots,
  broader (it also matches more words).

"Exact" leaves out the empty topic: a glob is never empty, so a key's match of the empty topic
(``""``, or the zero-word side of ``.#``) is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.cli.import_draft import glob_literal, unique
from hub.errors import ConfigError

MAX_HASH_RUNS = 6  # each "#" between literals doubles the globs: 2**6 = 64 at most


@dataclass(frozen=True)
class Translated:
    """The globs one routing key became, and whether they match exactly what it matched."""

    key: str
    globs: tuple[str, ...]
    exact: bool


def key_globs(key: str) -> Translated:
    """The topic globs equivalent to (or, when not ``exact``, broader than) routing ``key``.
    The empty key matches only the empty topic, which no glob (never empty) can say: no globs."""
    if not key:
        return Translated(key, (), False)
    parts = _parts(key.split("."))
    if sum(1 for p in parts if p is None) > MAX_HASH_RUNS:
        raise ConfigError(f"routing key {key!r}: more than {MAX_HASH_RUNS} '#' words")
    candidates: list[list[str]] = [[]]
    for part in parts:
        options = [None, "*"] if part is None else [part[0]]
        candidates = [c + ([o] if o is not None else []) for c in candidates for o in options]
    globs = unique([".".join(c) for c in candidates if c])
    if "*" in globs:
        globs = ["*"]
    exact = all(part is None or part[1] for part in parts)
    return Translated(key, tuple(g for g in globs if g), exact)


def _parts(words: list[str]) -> list[tuple[str, bool] | None]:
    """Each literal word, or run of wildcard words, as (glob part, exact); None: ``#`` alone."""
    parts: list[tuple[str, bool] | None] = []
    stars = 0
    hashes = False
    for word in [*words, None]:
        if word in ("*", "#"):
            stars += word == "*"
            hashes = hashes or word == "#"
            continue
        if stars:
            parts.append((".".join(["*"] * stars), hashes))
        elif hashes:
            parts.append(None)
        stars, hashes = 0, False
        if word is not None:
            parts.append((glob_literal(word), True))
    return parts
