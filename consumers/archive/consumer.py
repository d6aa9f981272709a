"""`Archive`: stores every message it matches in datanommer.models 1.5.0's schema.

Runs on its worker thread(s): ``setup()`` opens the store, ``consume_batch()`` writes each batch
the hub hands it in one transaction (`hub.storage.archive.ArchiveStore.write`), ``teardown()``
closes it. A message stored already (a redelivery: same msg_id and timestamp) is skipped and
counted as ``skipped``, never a second row. The database being down is ``hub.Unavailable``: the
hub waits it out and the backlog grows on disk (or on the broker), with ``/ready`` saying why;
a batch the database refuses is delivered one message at a time, so only the message at fault
is retried and dead-lettered.

config:
    url: the database: ``postgresql+psycopg://user:pass@host/db`` (``postgresql://`` is taken
        as that), or a SQLite file path or URL. Default: ``<state_dir>/archive/<name>.sqlite``.
    users_and_packages: ask fedora-messaging's schema classes who and what each message
        concerns, as datanommer does (default true; without fedora-messaging they are empty).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from consumers.archive.records import Concerns, record_of
from hub import Consumer, Halt, Message, Reject, Unavailable
from hub.storage.archive import (
    ArchiveRecord,
    ArchiveSchemaMismatch,
    ArchiveStore,
    ArchiveUnavailable,
)
from hub.storage.archive.location import default_url

KEYS = ("url", "users_and_packages")


def database_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 (the driver the hub ships), not SQLAlchemy's psycopg2."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Archive(Consumer):
    """The archive consumer (``class: archive``)."""

    topics = ["*"]

    def setup(self) -> None:
        unknown = sorted(set(self.config) - set(KEYS))
        if unknown:
            raise ValueError(
                f"unknown config key(s) {', '.join(unknown)}; valid: {', '.join(KEYS)}"
            )
        url = self.config.get("url") or default_url(self.hub.state_dir, self.name)
        if "://" not in url:
            Path(url).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.store = ArchiveStore(database_url(str(url)))
        self.concerns = Concerns(bool(self.config.get("users_and_packages", True)))
        self.concerns.start()
        self.counters.add("skipped", 0)
        self._lock = threading.Lock()  # threads > 1: one opens the store, the others wait
        self._open = False
        try:
            self._ensure_open()
        except Unavailable as error:  # start all the same; the first batch tries again
            self.log.warning("archive %s: %s; messages wait until it is reachable",
                             self.store.shown, error.reason)  # fmt: skip

    def _ensure_open(self) -> None:
        """Open the store once; `Unavailable` while the database cannot be reached."""
        with self._lock:
            if self._open:
                return
            try:
                self.store.open()
            except ArchiveUnavailable as error:
                raise Unavailable(str(error)) from error
            self._open = True

    def consume_batch(self, messages: list[Message]) -> Sequence[BaseException | None] | None:
        try:
            self._ensure_open()
        except ArchiveSchemaMismatch as error:  # found when the database came back
            raise Halt(str(error)) from error
        results: list[BaseException | None] = [None] * len(messages)
        records: list[ArchiveRecord] = []
        for index, message in enumerate(messages):
            concerned = self.concerns.of(message)
            if concerned.failed:
                self.counters.add("schema_errors")
            try:
                records.append(record_of(message, concerned))
            except (TypeError, ValueError) as error:
                results[index] = Reject(f"cannot be archived: {error}")
        try:
            _, skipped = self.store.write(records)
        except ArchiveUnavailable as error:
            raise Unavailable(str(error)) from error
        if skipped:
            self.counters.add("skipped", skipped)
            self.log.info("archive: %d of %d message(s) (from %s, msg_id %s) were archived "
                          "already: skipped", skipped, len(records), messages[0].topic,
                          messages[0].log_id)  # fmt: skip
        return results if any(r is not None for r in results) else None

    def teardown(self) -> None:
        self.store.close()
