"""``consumer-hub query``: read the archive (SQLite or PostgreSQL), newest first.

Runs on the main thread of a short-lived command (blocking SQLAlchemy calls, no reactor). The
archive is ``--url URL`` (a SQLAlchemy URL or a SQLite file), else the database of the config's
archive consumer (``--consumer NAME`` when it has several: `hub.storage.archive.location`). The
filters are `hub.storage.archive.query.Query`'s: each option may be repeated (values ORed),
different options are ANDed. ``--json`` prints one fedmsg envelope per line (topic, msg, msg_id,
timestamp, i, username, headers...: what the hub's ZeroMQ input takes); otherwise a table.

Exit codes: 0 (also when nothing matched); 2 usage (a bad time, a bad option); 3 configuration
(no archive consumer, an unknown or ambiguous one); 7 the archive cannot be read (no archive
at that URL, the database unreachable): one line on stderr saying which.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

import orjson

from hub.cli.table import layout
from hub.config import load_config
from hub.errors import ConfigError, HubError
from hub.storage.archive.errors import ArchiveError
from hub.storage.archive.location import archives
from hub.storage.archive.query import Query
from hub.storage.archive.reader import ArchivedMessage, ArchiveReader
from hub.storage.archive.shapes import envelope
from hub.storage.archive.times import moment

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
COLUMNS = (("TIME (UTC)", "<"), ("TOPIC", "<"), ("USERS", "<"), ("MSG_ID", "<"))
FILTERS = (
    ("topic", "GLOB", "a topic glob, as in a consumer's topics\n(* crosses dots)"),
    ("category", "C", "a category (bodhi, git...)"),
    ("user", "U", "a user name"),
    ("package", "P", "a package name"),
)
SINCE = """from T on, T included. T: epoch seconds; ISO 8601
(2024-03-01, 2024-03-01T12:30:00Z; UTC unless it has an
offset); or a span back from now: 90s, 30m, 1h, 2d, 1w"""
DESCRIPTION = """Read the archive (SQLite or PostgreSQL), newest first. The archive is --url, else
the database of the archive consumer in --config (--consumer NAME when there are several).
Different options are ANDed."""
EPILOG = """examples:
  consumer-hub query --topic 'org.fedoraproject.prod.bodhi.*' --since 2d
  consumer-hub query --user ralph --user pingou --limit 20
  consumer-hub query --url postgresql+psycopg://archive@db/archive --category git --json

exit codes: 0 done (also when nothing matched), 2 usage, 3 configuration (no archive
consumer, an unknown or ambiguous one), 7 the archive cannot be read (no archive at that
URL, the database unreachable)."""


class ArchiveQueryError(HubError):
    """The archive cannot be read: no archive at the URL, or the database cannot be reached."""

    exit_code = 7


def _time(now: datetime.datetime) -> Callable[[str], datetime.datetime]:
    def parse(text: str) -> datetime.datetime:
        try:
            return moment(text, now)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_parser(sub: Any, parents: list[argparse.ArgumentParser] | None = None) -> None:
    """Register ``query`` (``parents``: options allowed after it, such as ``--config``)."""
    when = _time(datetime.datetime.now(datetime.UTC))
    q = sub.add_parser(
        "query", help="read the archive, newest first", parents=parents or [],
        description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawTextHelpFormatter,
    )  # fmt: skip
    where = q.add_mutually_exclusive_group()
    where.add_argument("--url", help="the archive's database: a SQLAlchemy URL or a file path")
    where.add_argument("--consumer", help="which archive consumer of --config to read")
    for name, metavar, text in FILTERS:
        q.add_argument(f"--{name}", action="append", default=[], metavar=metavar,
                       help=f"{text}; repeatable (ORed)")  # fmt: skip
    q.add_argument("--since", type=when, metavar="T", help=SINCE)
    q.add_argument("--until", type=when, metavar="T", help="up to T, T included; as --since")
    q.add_argument("--msg-id", help="the message with this msg_id")
    limit = f"at most N messages (default {DEFAULT_LIMIT}; 0: all)"
    q.add_argument("--limit", type=_count, default=DEFAULT_LIMIT, metavar="N", help=limit)
    q.add_argument("--oldest-first", action="store_true", help="oldest first instead")
    q.add_argument("--json", action="store_true", help="one fedmsg envelope per line (JSON lines)")


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"a whole number of at least 0, not {text!r}")
    return int(text)


def archive_url(args: argparse.Namespace) -> str:
    """``--url``, else the database of the config's (only, or ``--consumer``) archive consumer."""
    if args.url:
        return str(args.url)
    config = load_config(args.config)
    found = archives(config)
    if not found:
        raise ConfigError(f"{config.source}: no archive consumer is enabled (class: archive); "
                          "give the archive's database with --url")  # fmt: skip
    if args.consumer is not None:
        if args.consumer not in found:
            names = ", ".join(found)
            raise ConfigError(f"{config.source}: consumers: {args.consumer} is not an enabled "
                              f"archive consumer; archive consumers: {names}")  # fmt: skip
        return found[args.consumer]
    if len(found) > 1:
        raise ConfigError(f"{config.source}: several archive consumers ({', '.join(found)}): "
                          "name one with --consumer")  # fmt: skip
    return next(iter(found.values()))


def query_of(args: argparse.Namespace) -> Query:
    """The filters the options give."""
    return Query(topics=tuple(args.topic), categories=tuple(args.category),
                 users=tuple(args.user), packages=tuple(args.package), msg_id=args.msg_id,
                 start=args.since, end=args.until,
                 order="asc" if args.oldest_first else "desc")  # fmt: skip


def cmd_query(args: argparse.Namespace) -> int:
    """Print the matching messages; exit 0 (see the module docstring for the others)."""
    reader = ArchiveReader(archive_url(args))
    try:
        reader.open()
        found = reader.messages(query_of(args), args.limit or None)
        if args.json:
            write_json(found, sys.stdout)
        else:
            write_table(found, sys.stdout)
    except ArchiveError as exc:
        raise ArchiveQueryError(str(exc)) from exc
    except BrokenPipeError:  # `| head`: the reader went away; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        reader.close()
    return 0


def write_json(messages: Iterable[ArchivedMessage], out: TextIO) -> None:
    """One envelope per line."""
    for message in messages:
        out.write(orjson.dumps(envelope(message)).decode() + "\n")
    out.flush()


def write_table(messages: Iterable[ArchivedMessage], out: TextIO) -> None:
    """The messages under `COLUMNS`, then how many there were."""
    rows = [[m.timestamp.isoformat(" ", "seconds"), m.topic,
             ",".join(m.users) or m.agent_name or "-", m.msg_id or "-"]
            for m in messages]  # fmt: skip
    if rows:
        out.write("\n".join(layout(COLUMNS, rows)) + "\n")
    out.write(f"{len(rows)} message(s)\n")
    out.flush()


COMMANDS = {"query": cmd_query}
