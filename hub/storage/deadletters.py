"""Dead letters: messages a consumer failed on ``retry.max_attempts`` times, kept in SQLite.

Threads: ``add`` runs on a consumer's worker threads; ``open``, ``close``, ``counts`` and
``replay_requested``/``mark_replayed`` (the hub's tick) on the reactor thread; in
``consumer-hub deadletters``, ``open``, ``close`` and the rest on the CLI's main thread. One
connection, guarded by a lock, in WAL mode so the CLI can read while the hub writes.

A row keeps the consumer, topic, msg_id, the envelope exactly as received, the error, its
traceback, the number of attempts and when. ``replay`` only marks rows; the running hub (or the
next one to start) puts each marked message back at the end of that consumer's backlog, for
that consumer only, and deletes the row.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from hub.errors import DeadLetterError
from hub.storage.private import create_private
from hub.workers.delivery import DeadLetter

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    consumer TEXT NOT NULL,
    topic TEXT NOT NULL,
    msg_id TEXT,
    envelope BLOB NOT NULL,
    error TEXT NOT NULL,
    traceback TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    failed_at REAL NOT NULL,
    replay INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS by_consumer ON dead_letters (consumer, id);
"""
COLUMNS = ("id", "consumer", "topic", "msg_id", "error", "attempts", "failed_at", "replay")


class DeadLetterStore:
    """The ``deadletters.sqlite`` file under ``state_dir``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def open(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            create_private(self.path)  # before SQLite: its -wal and -shm files take its mode
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise DeadLetterError(f"cannot open {self.path}: {exc}") from exc
        self._db = db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        assert self._db is not None, "open() first"
        with self.lock:
            return self._db.execute(sql, args).fetchall()

    def add(self, letter: DeadLetter) -> None:
        """Store one dead letter (worker thread); raises `DeadLetterError`."""
        try:
            self._run(
                "INSERT INTO dead_letters (consumer, topic, msg_id, envelope, error, traceback, "
                "attempts, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*letter[:7], time.time()),  # every field but seq
            )
        except sqlite3.Error as exc:
            raise DeadLetterError(f"cannot write to {self.path}: {exc}") from exc

    def counts(self) -> dict[str, int]:
        """Dead letters per consumer."""
        rows = self._run("SELECT consumer, COUNT(*) FROM dead_letters GROUP BY consumer")
        return {name: count for name, count in rows}

    def rows(self, consumer: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` rows (without envelope and traceback), oldest first."""
        where, args = ("WHERE consumer = ?", (consumer,)) if consumer else ("", ())
        rows = self._run(f"SELECT {', '.join(COLUMNS)} FROM dead_letters {where} "
                         "ORDER BY id DESC LIMIT ?", (*args, limit))  # fmt: skip
        return [dict(zip(COLUMNS, row, strict=True)) for row in reversed(rows)]

    def get(self, row_id: int) -> dict[str, Any] | None:
        """One row in full."""
        cols = (*COLUMNS, "envelope", "traceback")
        rows = self._run(f"SELECT {', '.join(cols)} FROM dead_letters WHERE id = ?", (row_id,))
        return dict(zip(cols, rows[0], strict=True)) if rows else None

    def mark_replay(self, consumer: str | None, row_id: int | None) -> int:
        """Ask the hub to replay rows (one, a consumer's, or all); return how many."""
        return self._change("UPDATE dead_letters SET replay = 1", consumer, row_id)

    def purge(self, consumer: str | None, row_id: int | None) -> int:
        """Delete rows (one, a consumer's, or all); return how many."""
        return self._change("DELETE FROM dead_letters", consumer, row_id)

    def _change(self, sql: str, consumer: str | None, row_id: int | None) -> int:
        where, args = _where(consumer, row_id)
        assert self._db is not None, "open() first"
        with self.lock:
            return self._db.execute(f"{sql} {where}", args).rowcount

    def replay_requested(self, limit: int = 1000) -> list[tuple[int, str, str, bytes, str | None]]:
        """Rows marked for replay: (id, consumer, topic, envelope, msg_id)."""
        return self._run(
            "SELECT id, consumer, topic, envelope, msg_id FROM dead_letters "
            "WHERE replay = 1 ORDER BY id LIMIT ?",
            (limit,),
        )

    def mark_replayed(self, row_id: int) -> None:
        self._run("DELETE FROM dead_letters WHERE id = ?", (row_id,))


def _where(consumer: str | None, row_id: int | None) -> tuple[str, tuple[Any, ...]]:
    if row_id is not None:
        return "WHERE id = ?", (row_id,)
    if consumer is not None:
        return "WHERE consumer = ?", (consumer,)
    return "", ()
