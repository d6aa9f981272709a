"""The hub configuration ``consumer-hub import-config`` builds, and its YAML with comments.

Runs on the CLI's main thread. A reader (`hub.cli.import_fedmsg`, `hub.cli.import_toml`) fills a
`Draft`: top-level keys, consumers, and notes (each note one ``#`` comment: what could not be
carried, or how a value was translated). `render` writes it as YAML that ``hub.config`` loads:
the values are dumped by PyYAML (``safe_dump``), the notes are comment lines above them.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

import yaml

WIDTH = 100  # of a comment line (a longer word, such as a path, stays whole)


@dataclass
class Draft:
    """A hub configuration being built from another one, with the notes to print beside it."""

    source: str  # what was read, for the header
    header: list[str] = field(default_factory=list)  # notes at the top
    top: dict[str, Any] = field(default_factory=dict)  # endpoints, amqp, fedmsg, ... in order
    top_notes: dict[str, list[str]] = field(default_factory=dict)  # notes above a top-level key
    consumers: dict[str, dict[str, Any]] = field(default_factory=dict)
    consumer_notes: dict[str, list[str]] = field(default_factory=dict)
    consumers_notes: list[str] = field(default_factory=list)  # above ``consumers:``
    not_carried: list[str] = field(default_factory=list)  # at the end

    def note(self, key: str, text: str) -> None:
        """A note above top-level ``key``."""
        self.top_notes.setdefault(key, []).append(text)

    def consumer_note(self, name: str, text: str) -> None:
        """A note above consumer ``name``."""
        self.consumer_notes.setdefault(name, []).append(text)


def render(draft: Draft) -> str:
    """The draft as YAML text: comments first, then each key with the notes above it."""
    lines = comment([f"Imported from {draft.source} by consumer-hub import-config.", *draft.header])
    for key, value in draft.top.items():
        lines += comment(draft.top_notes.get(key, []))
        lines += dump({key: value})
    lines += comment(draft.consumers_notes)
    if not draft.consumers:
        lines.append("consumers: {}")
    else:
        lines.append("consumers:")
    for name, consumer in draft.consumers.items():
        lines += comment(draft.consumer_notes.get(name, []), indent="  ")
        lines += dump({name: consumer}, indent="  ")
    if draft.not_carried:
        lines += ["", "# Not carried over:"]
        lines += comment(draft.not_carried, bullet="- ")
    return "\n".join(lines) + "\n"


def dump(value: dict[str, Any], indent: str = "") -> list[str]:
    """``value`` as block-style YAML lines, each prefixed with ``indent``."""
    text = yaml.safe_dump(value, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return [indent + line for line in text.splitlines()]


def comment(notes: list[str], indent: str = "", bullet: str = "") -> list[str]:
    """Each note as ``#`` comment lines of at most `WIDTH` characters (its line breaks kept)."""
    lines: list[str] = []
    width = max(WIDTH - len(indent) - 2 - len(bullet), 40)
    for note in notes:
        parts = [
            w
            for part in note.splitlines()
            for w in textwrap.wrap(part, width, break_long_words=False, break_on_hyphens=False)
            or [""]
        ]
        for i, part in enumerate(parts or [""]):
            lead = bullet if i == 0 else " " * len(bullet)
            lines.append(f"{indent}# {lead}{part}".rstrip())
    return lines


_GLOB_SPECIAL = re.compile(r"([*?\[])")


def glob_literal(text: str) -> str:
    """``text`` as a topic glob that matches exactly ``text`` (``*``, ``?``, ``[`` escaped)."""
    return _GLOB_SPECIAL.sub(r"[\1]", text)


def unique(items: list[str]) -> list[str]:
    """``items`` without repeats, first occurrence kept."""
    return list(dict.fromkeys(items))
