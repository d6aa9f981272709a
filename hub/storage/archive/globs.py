"""Our topic globs (`hub.routing.topics`) as SQL conditions on ``messages.topic``.

Pure functions, used on whichever thread builds a query (the CLI's main thread, the status
endpoint's ``archive-raw`` thread). A glob is read as `fnmatch` reads it (``*`` any run of
characters, dots included; ``?`` one character; ``[abc]``, ``[a-z]``, ``[!abc]`` one character
of a set, or not of it; an unclosed ``[`` is itself), and becomes:

- no wildcard at all: ``topic = 'the.topic'`` (exact, and the index is used);
- otherwise ``topic LIKE '...' ESCAPE '\\'`` (``*`` as ``%``, ``?`` and a set as ``_``, the
  literal parts escaped), which is the exact answer on PostgreSQL when there is no set; with a
  set, and always on SQLite (whose ``LIKE`` ignores ASCII case, where our globs do not), the
  same pattern as an anchored regular expression too (``~`` on PostgreSQL, Python's ``re`` on
  SQLite), written in the syntax both read alike;
- a set that can hold no character (``[z-a]``) matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false


@dataclass(frozen=True)
class CharSet:
    """``[...]``: one character in (or, ``negated``, not in) the ranges ``(low, high)``."""

    ranges: tuple[tuple[str, str], ...]
    negated: bool


Token = str | CharSet | None  # a literal run, a set, or None: ``*`` (a run of anything)
ANY_ONE = CharSet((), negated=True)  # ``?``


def tokens(pattern: str) -> list[Token]:
    """``pattern`` cut into literal runs, sets and stars, as `fnmatch` reads it."""
    out: list[Token] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if not out or out[-1] is not None:
                out.append(None)
            i += 1
        elif char == "?":
            out.append(ANY_ONE)
            i += 1
        elif char == "[" and (end := _set_end(pattern, i)) > 0:
            _add(out, _char_set(pattern[i + 1 : end]))
            i = end + 1
        else:
            _add(out, char)
            i += 1
    return out


def _add(out: list[Token], token: str | CharSet) -> None:
    """Append ``token``; a one-character set (``[*]``, how a glob escapes) is a literal."""
    if isinstance(token, CharSet) and not token.negated and len(token.ranges) == 1:
        low, high = token.ranges[0]
        token = low if low == high else token
    if isinstance(token, str) and out and isinstance(out[-1], str):
        out[-1] += token
    else:
        out.append(token)


def _set_end(pattern: str, start: int) -> int:
    """The index of the ``]`` closing the set opened at ``start``; -1 if it is not closed."""
    j = start + 1
    if j < len(pattern) and pattern[j] == "!":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    return pattern.find("]", j)


def _char_set(content: str) -> CharSet:
    """The set between the brackets: ``a-z`` a range (dropped when empty), else one character;
    a ``-`` first or last is itself (fnmatch's reading)."""
    negated = content.startswith("!")
    if negated:
        content = content[1:]
    ranges = []
    k = 0
    while k < len(content):
        if k + 2 < len(content) and content[k + 1] == "-":
            low, high = content[k], content[k + 2]
            k += 3
        else:
            low = high = content[k]
            k += 1
        if low <= high:
            ranges.append((low, high))
    return CharSet(tuple(ranges), negated)


def has_wildcard(pattern: str) -> bool:
    """True unless ``pattern`` is one literal (then it matches exactly itself)."""
    return not all(isinstance(t, str) for t in tokens(pattern))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(parts: list[Token]) -> str:
    """The ``LIKE`` pattern (escape character ``\\``): exact for literals, ``*`` and ``?``; a
    set becomes ``_`` (any one character: the regular expression decides)."""
    return "".join(
        "%" if t is None else "_" if isinstance(t, CharSet) else _like_escape(t) for t in parts
    )


def _re_char(char: str) -> str:
    """One character as a regular-expression literal, in and out of brackets alike."""
    special = char.isascii() and char.isprintable() and not char.isalnum()
    return "\\" + char if special else char


def _re_set(charset: CharSet) -> str:
    if not charset.ranges:
        return "."  # negated and empty: any one character (`?` too)
    body = "".join(
        _re_char(low) if low == high else f"{_re_char(low)}-{_re_char(high)}"
        for low, high in charset.ranges
    )
    return f"[{'^' if charset.negated else ''}{body}]"


def regex(parts: list[Token]) -> str:
    """An anchored regular expression that Python's ``re`` and PostgreSQL's ``~`` both read
    as the glob: ``(?s)`` so that ``.`` matches a newline too, ``\\A ... \\Z``."""
    body = "".join(
        ".*" if t is None else _re_set(t) if isinstance(t, CharSet) else "".join(map(_re_char, t))
        for t in parts
    )
    return f"(?s)\\A{body}\\Z"


def matches_nothing(parts: list[Token]) -> bool:
    """True when a set in ``parts`` can hold no character (``[z-a]``)."""
    return any(isinstance(t, CharSet) and not t.ranges and not t.negated for t in parts)


def glob_condition(column: ColumnElement[str], pattern: str, dialect: str) -> ColumnElement[bool]:
    """``column`` matches the glob ``pattern`` (see the module docstring), on ``dialect``."""
    parts = tokens(pattern)
    if all(isinstance(t, str) for t in parts):
        return column == "".join(t for t in parts if isinstance(t, str))
    if matches_nothing(parts):
        return false()
    condition: ColumnElement[bool] = column.like(like_pattern(parts), escape="\\")
    if dialect == "sqlite" or any(isinstance(t, CharSet) and t is not ANY_ONE for t in parts):
        condition = and_(condition, column.regexp_match(regex(parts)))
    return condition


def literal(topic: str) -> str:
    """A glob matching exactly ``topic``, whatever characters it holds (datagrepper's
    ``topic=`` is an exact match)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in topic)
