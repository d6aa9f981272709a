"""``consumer-hub deadletters list|show|replay|purge``: look at dead letters and send them back.

Runs on the CLI's main thread, against ``<state_dir>/deadletters.sqlite`` (safe while the hub
runs: SQLite in WAL mode). ``replay`` marks rows; the running hub (within a second) or the next
one to start appends each marked message to that consumer's backlog only, and deletes the row.
For an AMQP consumer (``--consumer NAME`` with ``source: amqp``) every action works on its
dead-letter queue on the broker instead (`hub.cli.broker_deadletters`); ``show`` takes a msg_id.
"""

from __future__ import annotations

import argparse
import datetime
import logging
from pathlib import Path
from typing import Any

import orjson

from hub.cli.broker_deadletters import BrokerDeadLetters, printable, why
from hub.config import HubConfig
from hub.storage.deadletters import DeadLetterStore

log = logging.getLogger(__name__)


def add_parser(sub: Any, parents: list[argparse.ArgumentParser] | None = None) -> None:
    """Register the ``deadletters`` sub-command (``parents``: options allowed after it)."""
    parents = parents or []
    dl = sub.add_parser("deadletters", help="list, show, replay or purge dead letters")
    action = dl.add_subparsers(dest="action", required=True)
    lst = action.add_parser("list", help="the newest dead letters, one a line", parents=parents)
    lst.add_argument("--consumer")
    lst.add_argument("--limit", type=int, default=100)
    show = action.add_parser("show", help="one dead letter (envelope, traceback)", parents=parents)
    show.add_argument("id", help="its id; for an AMQP consumer (--consumer) its msg_id")
    show.add_argument("--consumer")
    for name, text in (("replay", "send back to its consumer"), ("purge", "delete")):
        p = action.add_parser(name, help=f"{text}: --id, --consumer or --all", parents=parents)
        group = p.add_mutually_exclusive_group(required=True)
        group.add_argument("--id", type=int)
        group.add_argument("--consumer")
        group.add_argument("--all", action="store_true")


def cmd_deadletters(config: HubConfig, args: argparse.Namespace) -> int:
    """Run one ``deadletters`` action; exit 0, or 1 when ``show`` finds no such row."""
    consumer = config.consumers.get(getattr(args, "consumer", None) or "")
    if consumer is not None and consumer.source == "amqp" and config.amqp is not None:
        return _on_broker(BrokerDeadLetters(config.amqp, args.consumer), args)
    store = DeadLetterStore(Path(config.state_dir) / "deadletters.sqlite")
    store.open()
    try:
        if args.action == "list":
            for row in store.rows(args.consumer, args.limit):
                when = datetime.datetime.fromtimestamp(row["failed_at"]).isoformat(" ", "seconds")
                mark = " (replay pending)" if row["replay"] else ""
                print(f"{row['id']}\t{when}\t{row['consumer']}\t{row['topic']}\t"
                      f"{row['msg_id']}\t{row['attempts']}x\t{row['error']}{mark}")  # fmt: skip
            return 0
        if args.action == "show":
            if not args.id.isdigit():
                print(f"dead letter ids are numbers (see 'deadletters list'), not {args.id!r}")
                return 2
            return _show(store, int(args.id))
        if args.action == "replay":
            count = store.mark_replay(args.consumer, args.id)
            print(f"{count} dead letter(s) marked for replay")
            return 0
        count = store.purge(args.consumer, args.id)
        print(f"{count} dead letter(s) purged")
        return 0
    finally:
        store.close()


def _on_broker(dead: BrokerDeadLetters, args: argparse.Namespace) -> int:
    """An AMQP consumer's dead letters: its dead-letter queue on the broker."""
    if args.action == "list":
        for row in dead.rows(args.limit):
            print(f"{dead.dead}\t{args.consumer}\t{row['topic']}\t{row['msg_id']}\t"
                  f"{why(row)}")  # fmt: skip
    elif args.action == "show":
        letter = dead.show(args.id)
        if letter is None:
            print(f"no dead letter with msg_id {args.id} in {dead.dead}")
            return 1
        print(printable(letter))
    elif args.action == "replay":
        print(f"{dead.replay()} dead letter(s) moved back to {dead.queue}")
    else:
        print(f"{dead.purge()} dead letter(s) purged from {dead.dead}")
    return 0


def _show(store: DeadLetterStore, row_id: int) -> int:
    row = store.get(row_id)
    if row is None:
        print(f"no dead letter {row_id}")
        return 1
    envelope = orjson.loads(row.pop("envelope"))
    trace = row.pop("traceback")
    for key, value in row.items():
        print(f"{key}: {value}")
    print("envelope:")
    print(orjson.dumps(envelope, option=orjson.OPT_INDENT_2).decode())
    print("traceback:")
    print(trace or "(none: the consumer raised hub.Retry)")
    return 0
