"""Topic globs (`hub.topics`) -> AMQP topic-exchange binding keys.

Runs on the main thread (config check, start-up, reload) and the reactor (declaring bindings).
Pure: no I/O.

Our globs match the whole topic as a string (``fnmatch``): ``*`` is any run of characters,
dots included, *empty included*; ``?`` is one character (a dot too); ``[...]`` one of a set
(a dot too, if the set allows it); the rest is literal. An AMQP binding key matches words
(split on dots; a word may be empty): ``*`` is exactly one word, ``#`` zero or more, anything
else a literal word; there is no wildcard inside a word and no escape.

A glob is split on its literal dots into words, and each word maps to key words:

=====================================  ========================  =====  ===================
glob word                              key words                 exact  why broader
=====================================  ========================  =====  ===================
literal (``bodhi``, empty)             itself                    yes
``*`` alone (``**`` is the same)       ``*.#`` (one or more)     yes
literal ``#``                          ``#``                     no     ``#`` is AMQP's
``*`` inside a word (``update*``)      ``*.#``                   no     prefix/suffix lost
``?``/``[...]`` that may match a dot   ``*.#`` (1 to k+1 words)  no     within a word
``?``/``[...]`` never matching a dot   ``*``                     no     within a word
=====================================  ========================  =====  ===================

A run of ``*``/``#`` words becomes its ``*`` words then one ``#`` if it had any; ``*.#`` alone
(our ``*``) is written ``#``: RabbitMQ splits every routing key into at least one word. Whole
globs, for example:

=====================================  =======================================  =====
glob                                   binding key                              exact
=====================================  =======================================  =====
``*``                                  ``#``                                    yes
``org.fedoraproject.prod.bodhi``       ``org.fedoraproject.prod.bodhi``         yes
``a.b.*``                              ``a.b.*.#``  (not ``a.b.#``: that also   yes
                                       matches ``a.b``, which ``a.b.*`` not)
``org.fedoraproject.*.buildsys.x``     ``org.fedoraproject.*.#.buildsys.x``     yes
``*.bodhi.update``                     ``*.#.bodhi.update``                     yes
``a.*.*``                              ``a.*.*.#``                              yes
``org.fedoraproject.*.bodhi.update*``  ``org.fedoraproject.*.#.bodhi.*.#``      no
``a.b?c.d`` / ``a.[xy].d``             ``a.*.#.d`` / ``a.*.d``                  no
``*bodhi*``                            ``#``                                    no
=====================================  =======================================  =====

Every key is sound: it matches every topic the glob matches. Where it is broader (not exact)
the broker delivers more than the consumer asked for, so **the hub must filter every delivery
with the consumer's `hub.topics.TopicMatcher`** (and ack what it drops). It should do so even
when every key is exact: AMQP 0-9-1 cannot list a queue's bindings, so a durable queue keeps
bindings from an earlier configuration until someone unbinds them.

A key longer than 255 bytes (AMQP's limit) is cut after a word and ends in ``#`` (broader).
Refused, with `GlobNotBindable` naming the glob: a glob that is not valid UTF-8 (a lone
surrogate), which no AMQP key can hold; and, with ``strict=True``, any glob whose key is broader.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from hub.transports.amqp.errors import GlobNotBindable

MAX_KEY_BYTES = 255
STAR, ONE, DOT_ONE = "*", "?", "?."  # tokens: any run; one char never a dot; one char, a dot too


@dataclass(frozen=True)
class Binding:
    """The AMQP binding key for one glob; ``reason`` says why it is broader when not exact."""

    glob: str
    key: str
    exact: bool
    reason: str = ""


def binding_for(glob: str, strict: bool = False) -> Binding:
    """The binding key for ``glob``; raise `GlobNotBindable` if it has none (or strict)."""
    try:
        glob.encode("utf-8")
    except UnicodeEncodeError:
        raise GlobNotBindable(glob, "not valid UTF-8") from None
    words: list[str] = []
    reasons: list[str] = []
    for word in _split_words(_tokens(glob)):
        mapped, reason = _map_word(word)
        words.extend(mapped)
        if reason:
            reasons.append(reason)
    key, cut = _fit(_collapse(words))
    if cut:
        reasons.append(f"a key over {MAX_KEY_BYTES} bytes is cut to end in '#'")
    binding = Binding(glob, key, not reasons, "; ".join(dict.fromkeys(reasons)))
    if strict and not binding.exact:
        raise GlobNotBindable(glob, f"the nearest key {key!r} is broader: {binding.reason}")
    return binding


def binding_keys(globs: Iterable[str], strict: bool = False) -> tuple[str, ...]:
    """The distinct keys to bind for a consumer's globs, in glob order (``#`` covers all)."""
    keys = tuple(dict.fromkeys(binding_for(g, strict).key for g in globs))
    return ("#",) if "#" in keys else keys


def _tokens(glob: str) -> list[str]:
    """Literal characters (``.`` included) and wildcard tokens, parsed as ``fnmatch`` does."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        i += 1
        if c == "*":
            if not out or out[-1] != STAR:
                out.append(STAR)
        elif c == "?":
            out.append(DOT_ONE)
        elif c == "[" and (end := _set_end(glob, i)) is not None:
            chars = glob[i - 1 : end + 1]
            out.append(DOT_ONE if re.match(fnmatch.translate(chars), ".") else ONE)
            i = end + 1
        else:
            out.append(c)
    return out


def _set_end(glob: str, start: int) -> int | None:
    """Where the ``[`` set opened before ``start`` closes, by fnmatch's rules; None if never."""
    j = start
    if j < len(glob) and glob[j] == "!":
        j += 1
    if j < len(glob) and glob[j] == "]":
        j += 1
    end = glob.find("]", j)
    return None if end < 0 else end


def _split_words(tokens: list[str]) -> list[list[str]]:
    """Tokens split on literal dots (a dot a wildcard may match is not a separator)."""
    words: list[list[str]] = [[]]
    for token in tokens:
        if token == ".":
            words.append([])
        else:
            words[-1].append(token)
    return words


def _map_word(word: list[str]) -> tuple[list[str], str]:
    """One glob word -> its key words and, when they are broader, why."""
    wild = [t for t in word if t in (STAR, ONE, DOT_ONE)]
    if not wild:
        text = "".join(word)
        return [text], "a literal '#' word is AMQP's wildcard" if text == "#" else ""
    if word == [STAR]:
        return [STAR, "#"], ""
    if STAR in wild:
        return [STAR, "#"], "'*' inside a word: AMQP wildcards are whole words"
    reason = "'?' and '[...]' match within a word: AMQP matches whole words"
    return ([STAR, "#"] if DOT_ONE in wild else [STAR]), reason


def _collapse(words: list[str]) -> list[str]:
    """Each run of ``*``/``#`` words as its ``*`` words then one ``#``; ``*.#`` alone is ``#``."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, None]:
        if word in (STAR, "#"):
            run.append(word)
            continue
        out.extend([STAR] * run.count(STAR) + (["#"] if "#" in run else []))
        run = []
        if word is not None:
            out.append(word)
    return ["#"] if out == [STAR, "#"] else out


def _fit(words: list[str]) -> tuple[str, bool]:
    """The key, cut after a word and ended with ``#`` if it is over AMQP's 255 bytes."""
    key = ".".join(words)
    if len(key.encode("utf-8")) <= MAX_KEY_BYTES:
        return key, False
    kept: list[str] = []
    for word in words:
        if len(".".join([*kept, word, "#"]).encode("utf-8")) > MAX_KEY_BYTES:
            break
        kept.append(word)
    return ".".join(_collapse([*kept, "#"])), True
