"""The real fedmsg samples as `ArchiveRecord`s, and datanommer.models' own code reading an
archive back: shared by the archive's SQLite (unit) and PostgreSQL (integration) tests.

Runs in the pytest process. The users and packages of a sample are test input chosen here (the
envelope's ``username`` and the body's ``agent``; the body's ``name``), since the samples come
without fedora-messaging schema classes to ask.
"""

from __future__ import annotations

import datetime
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import datanommer.models as dm
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session

from hub.data import load_samples
from hub.storage.archive.records import ArchiveRecord, naive_utc, record_msg_id

NO_TIME = datetime.datetime(2012, 1, 1, tzinfo=datetime.UTC)  # samples without a timestamp


def _names(*values: Any) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if isinstance(v, str) and v}))


def sample_records() -> list[ArchiveRecord]:
    """One record per bundled sample (401, `hub.data.load_samples`), in file order."""
    records = []
    for n, env in enumerate(load_samples()):
        body = env["msg"]
        stamp = env.get("timestamp")
        when = (datetime.datetime.fromtimestamp(stamp, datetime.UTC) if stamp is not None
                else NO_TIME + datetime.timedelta(seconds=n))  # fmt: skip
        records.append(ArchiveRecord(
            topic=env["topic"], body=body, timestamp=when, msg_id=env.get("msg_id"),
            headers=env.get("headers"), certificate=env.get("certificate"),
            signature=env.get("signature"), crypto=env.get("crypto"),
            usernames=_names(env.get("username"), body.get("agent")),
            packages=_names(body.get("name")), agent_name=env.get("username"),
            i=env.get("i", 0), source_name=env.get("source_name"),
            source_version=env.get("source_version"),
        ))  # fmt: skip
    return records


def first_of_each(records: list[ArchiveRecord]) -> list[ArchiveRecord]:
    """The records a write keeps: the first with each ``(msg_id, timestamp)``."""
    kept: dict[tuple[str, datetime.datetime], ArchiveRecord] = {}
    for record in records:
        kept.setdefault((record_msg_id(record), naive_utc(record.timestamp)), record)
    return list(kept.values())


def as_written(record: ArchiveRecord) -> tuple[Any, ...]:
    """What datanommer should read back for ``record``, as a comparable tuple."""
    return (record_msg_id(record), record.topic, naive_utc(record.timestamp), record.i,
            json.dumps(record.body, sort_keys=True), json.dumps(record.headers, sort_keys=True),
            record.certificate, record.signature, record.crypto, record.agent_name,
            list(record.usernames), list(record.packages))  # fmt: skip


def as_read(message: Any) -> tuple[Any, ...]:
    """A ``datanommer.models.Message`` as the same tuple, from its own ``as_dict()``."""
    d = message.as_dict()
    return (d["msg_id"], d["topic"], d["timestamp"], d["i"], json.dumps(d["msg"], sort_keys=True),
            json.dumps(d["headers"], sort_keys=True), d["certificate"], d["signature"],
            d["crypto"], d["agent_name"], d["users"], d["packages"])  # fmt: skip


@contextmanager
def datanommer_reading(url: str) -> Iterator[Any]:
    """datanommer.models bound to ``url`` (its global session, renewed as its own tests do)."""
    engine = create_engine(url)
    dm.session = scoped_session(dm.maker)
    dm.init(engine=engine)
    try:
        yield dm
    finally:
        dm.session.remove()
        engine.dispose()


def grep(**filters: Any) -> list[tuple[Any, ...]]:
    """Every message datanommer's ``Message.grep(**filters)`` returns, as `as_read` tuples."""
    total, pages, messages = dm.Message.grep(rows_per_page=0, **filters)
    assert pages == 1 and total == len(messages)
    return sorted(as_read(m) for m in messages)


def assert_reads_back(written: list[ArchiveRecord]) -> dict[str, int]:
    """datanommer's grep, unfiltered and by each topic, category and user, returns exactly the
    records written (the first of each pair); returns how many queries of each kind ran."""
    want = sorted(as_written(r) for r in written)
    assert grep() == want
    checked = {"topics": 0, "categories": 0, "users": 0}
    by: dict[str, dict[str, list[tuple[Any, ...]]]] = {k: {} for k in checked}
    for record, row in zip(written, (as_written(r) for r in written), strict=True):
        by["topics"].setdefault(record.topic, []).append(row)
        by["categories"].setdefault(dm.Message(topic=record.topic).category, []).append(row)
        for user in record.usernames:
            by["users"].setdefault(user, []).append(row)
    for kind, groups in by.items():
        for value, rows in groups.items():
            assert grep(**{kind: [value]}) == sorted(rows), (kind, value)
            checked[kind] += 1
    return checked


def schema_concerns(topic: str, body: Any) -> tuple[tuple[str, ...], tuple[str, ...], Any]:
    """(usernames, packages, agent_name) of a message as fedora-messaging's own code gives
    them: the first installed class, by entry-point name, whose topic the message's topic ends
    with and whose ``validate()`` passes; empty when there is none."""
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group="fedora.messages"), key=lambda e: e.name):
        cls = ep.load()
        suffix = getattr(cls, "topic", "")
        if not suffix or not (topic == suffix or topic.endswith("." + suffix)):
            continue
        with warnings.catch_warnings():  # anitya's older classes warn that they are
            warnings.simplefilter("ignore", DeprecationWarning)
            message = cls(body=body, topic=topic)
        try:
            message.validate()
        except Exception:  # jsonschema's ValidationError: not this class
            continue
        return (tuple(message.usernames), tuple(message.packages),
                getattr(message, "agent_name", None))  # fmt: skip
    return (), (), None
