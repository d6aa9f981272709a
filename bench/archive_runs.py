"""One timed archive run: the hub's archive consumer, or datanommer's own insert path, storing
the samples into a fresh database (`bench.archive_db`); then what is stored is checked.

Runs on the bench process's main thread; the hub is a subprocess (`bench.hubproc.Hub`), fed by
`bench.archive_publisher`; datanommer runs in this process.

- **Warm-up**: both first store one cycle of the samples (401 messages), untimed, into the same
  database: every schema class is loaded and compiled, every statement cached, before the timing.
- **The hub**: a ``consumer-hub run`` with one ``class: archive`` consumer (its defaults:
  ``threads`` 1, ``batch_size`` 256, ``batch_wait_s`` 0.05, users and packages from
  fedora-messaging's schema classes) on the run's database. Timed from the publisher's first
  timed send to the first /status poll that shows ``done`` at the count (polled every 50 ms,
  every 5 ms when the end is near), so the figure errs on the hub's slow side by one poll at most.
- **datanommer**: each message built before the timing as its consumer receives it
  (`fedora_messages`), ``datanommer.models.add()`` called once per message (a commit each),
  timed from the first timed call to the last return (the tracebacks its category validator prints
  for short topics go to /dev/null, still paid for). Its schema is created by `ArchiveStore.open()`:
  datanommer's ``init(create=True)`` needs TimescaleDB on PostgreSQL and cannot create its
  composite-key tables on SQLite; on SQLite, where nothing numbers ``messages.id``, a
  ``before_insert`` hook numbers them from a counter (no query; datanommer alone fails there).
- **Checked**: ``messages`` holds exactly the count (warm-up included), one row per msg_id,
  and ``users_messages`` + ``packages_messages`` exactly the links the messages' schema classes
  name (`expected_links`), else `bench.collector.LossError`; the hub's /status must show none
  failed or skipped.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench.archive_db import Backend, datanommer_url, stored
from bench.archive_publisher import ArchivePublisher, archive_envelopes
from bench.collector import LossError
from bench.hubproc import Hub, cpu_seconds
from bench.session import Settings
from hub.errors import Drop
from hub.message import Message
from hub.storage.archive import ArchiveStore

POLL_S, NEAR_POLL_S = 0.05, 0.005
QUEUE_SIZE = 10_000
_runs = itertools.count(1)


@dataclass(frozen=True)
class ArchiveRun:
    """One run's outcome."""

    count: int
    seconds: float  # first send (or add()) to the last message stored
    cpu_s: float  # the hub process's (or this process's) CPU time meanwhile

    @property
    def rate(self) -> float:
        """Messages stored a second."""
        return self.count / max(self.seconds, 1e-9)

    @property
    def cpu_per_message(self) -> float:
        """CPU seconds a message (the database server's not included)."""
        return self.cpu_s / self.count


def _tag(kind: str) -> str:
    return f"bench-{kind}-{os.getpid()}-{next(_runs)}"


def hub_run(
    backend: Backend, count: int, per_sample: Sequence[int], s: Settings, label: str
) -> ArchiveRun:
    """``count`` messages through a hub's archive consumer into a fresh database, after one
    untimed cycle of the samples (``per_sample``: the links each names); a py-spy profile into
    ``<--profile>/<label>.txt`` if asked."""
    url, warmup = backend.fresh(), len(per_sample)
    profile = s.profile / f"{label}.txt" if s.profile else None
    with TemporaryDirectory(prefix="bench-archive-") as tmp:
        entry = {"class": "archive", "threads": 1, "queue_size": QUEUE_SIZE,
                 "config": {"url": url}}  # fmt: skip
        hub = Hub(Path(tmp), {"archive": entry}, profile=profile, hub_src=s.hub_src)
        publisher = ArchivePublisher(count, _tag("hub"), warmup)
        try:
            publisher.start()
            hub.start(publisher.endpoint)
            publisher.wait_subscribed(30)
            publisher.warm(30)
            wait_archived(hub, warmup, s.idle_timeout)
            cpu_before = cpu_seconds(hub.pid)
            publisher.go()
            end_ns, doc = wait_archived(hub, warmup + count, s.idle_timeout)
            cpu = cpu_seconds(hub.pid) - cpu_before
            publisher.wait_sent(30)
        finally:
            hub.stop()
            publisher.stop()
    failed = (doc["failed"], doc["dead_letters"], doc["counters"].get("skipped", 0))
    if failed != (0, 0, 0):
        raise LossError(f"LOSS: the hub's archive: failed, dead letters, skipped = {failed}")
    links = expected_links(per_sample, warmup + count)
    check_stored(f"hub on {backend.name}", url, warmup + count, links)
    return ArchiveRun(count, (end_ns - publisher.first_ns) / 1e9, cpu)


def wait_archived(hub: Hub, count: int, idle_timeout: float) -> tuple[int, dict[str, Any]]:
    """Poll /status until the archive consumer's ``done`` reaches ``count``; the time it was
    seen (``time.monotonic_ns()``) and the consumer's status. No progress for
    ``idle_timeout`` seconds, or a hub that exited, is `LossError`."""
    done, last_news = 0, time.monotonic()
    while True:
        with urllib.request.urlopen(f"{hub.status_url}/status", timeout=10) as answer:
            seen_ns = time.monotonic_ns()
            doc: dict[str, Any] = json.load(answer)["consumers"]["archive"]
        if doc["done"] >= count:
            return seen_ns, doc
        if doc["done"] > done:
            done, last_news = doc["done"], time.monotonic()
        elif time.monotonic() - last_news > idle_timeout or not hub.alive():
            raise LossError(f"LOSS: the hub archived {done:,} of {count:,}, then nothing for "
                            f"{idle_timeout:.0f} s\n{hub.log_tail()}")  # fmt: skip
        time.sleep(NEAR_POLL_S if count - done <= QUEUE_SIZE // 20 else POLL_S)


def check_stored(label: str, url: str, count: int, links: int) -> None:
    """`LossError` unless the database holds ``count`` distinct messages and ``links`` links."""
    found = stored(url)
    if found != (count, count, links):
        raise LossError(f"LOSS: {label}: {found.messages:,} rows ({found.distinct:,} msg_ids), "
                        f"{found.links:,} links; expected {count:,} and {links:,}")  # fmt: skip


def fedora_messages(envelopes: Sequence[dict[str, Any]]) -> list[Any]:
    """Each envelope as the ``fedora_messaging`` message its consumer would be handed: the
    schema class its topic and body select (as the archive consumer picks it, by
    `hub.plugins.schemas.Schemas`), else the base ``Message``, with ``sent-at`` and the id."""
    from fedora_messaging import message as fm

    from hub.plugins.schemas import Schemas, headers_of, instance

    schemas, built = Schemas(), []
    for envelope in envelopes:
        message = Message(str(envelope["topic"]), envelope)
        try:
            built.append(schemas.build(message))
        except Drop:
            built.append(instance(fm.Message, message, headers_of(message)))
    return built


def names(messages: Sequence[Any]) -> list[int]:
    """How many users and packages each message names (its rows in the link tables)."""
    return [len(set(m.usernames)) + len(set(m.packages)) for m in messages]


def expected_links(per_sample: Sequence[int], count: int) -> int:
    """The link rows of ``count`` messages cycling samples that name ``per_sample`` each."""
    whole, part = divmod(count, len(per_sample))
    return whole * sum(per_sample) + sum(per_sample[:part])


def datanommer_run(backend: Backend, count: int, warmup: int) -> ArchiveRun:
    """``count`` messages through ``datanommer.models.add()``, one at a time, into a fresh
    database on ``backend``, after ``warmup`` untimed ones."""
    url = backend.fresh()
    messages = fedora_messages(archive_envelopes(warmup + count, _tag("datanommer")))
    ArchiveStore(url).open().close()
    # its category validator prints a traceback for a topic of 3 parts or fewer: still paid for
    with (
        datanommer_bound(datanommer_url(url)) as dm,
        open(os.devnull, "w") as null,
        redirect_stderr(null),
    ):
        for message in messages[:warmup]:
            dm.add(message)
        cpu_before, began = time.process_time(), time.monotonic_ns()
        for message in messages[warmup:]:
            dm.add(message)
        seconds, cpu = (time.monotonic_ns() - began) / 1e9, time.process_time() - cpu_before
    check_stored(f"datanommer on {backend.name}", url, warmup + count, sum(names(messages)))
    return ArchiveRun(count, seconds, cpu)


@contextmanager
def datanommer_bound(url: str) -> Iterator[Any]:
    """datanommer.models bound to ``url`` (a new global session, its name caches cleared); on
    SQLite, ``messages.id`` numbered by a ``before_insert`` hook (see the module docstring)."""
    import datanommer.models as dm
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import scoped_session

    engine = create_engine(url)
    dm.session = scoped_session(dm.maker)
    dm.User.clear_cache()
    dm.Package.clear_cache()
    dm.init(engine=engine)
    ids = itertools.count(1)

    def number(_mapper: Any, _conn: Any, target: Any) -> None:
        if target.id is None:
            target.id = next(ids)

    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        event.listen(dm.Message, "before_insert", number)
    try:
        yield dm
    finally:
        if sqlite:
            event.remove(dm.Message, "before_insert", number)
        dm.session.remove()
        engine.dispose()
