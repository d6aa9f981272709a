"""Saving the cursors off the reactor: one named thread, ``store:commit``.

The reactor (`hub.storage.durable.Durable.commit`, every ``backlog.commit_interval_s``) hands the
newest cursors over with ``submit``; this thread writes and fsyncs the cursor file
(`hub.storage.cursors.CursorFile`: a temporary file, fsync, rename) and reports the result back
through ``report``, which the durable state binds to ``reactor.callFromThread``; the reactor then
releases the log segments nobody needs. An fsync can take tens of milliseconds on a slow
disk: on the reactor it delayed input by that much once a commit interval. A commit not yet
started when a newer one is submitted is replaced by it (only the newest cursors matter).
``stop`` lets the commit in hand finish, then ends the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from hub.storage.cursors import CursorFile

Cursors = dict[str, int]
Report = Callable[[Cursors, OSError | None, int], None]  # (cursors, error or None, generation)


class Committer:
    """A one-slot mailbox of cursors and the thread that saves them."""

    def __init__(self, cursors: CursorFile, report: Report) -> None:
        self.cursors = cursors
        self.report = report  # called on this thread
        self._cond = threading.Condition()
        self._pending: tuple[Cursors, int] | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._run, name="store:commit", daemon=True)
        self._thread.start()

    def submit(self, cursors: Cursors, generation: int = 0) -> None:
        """Save ``cursors`` soon (reactor); replaces a commit not yet started. ``generation``
        comes back with the report: a caller numbers its commits to know which one is saved."""
        with self._cond:
            self._pending = (dict(cursors), generation)
            self._cond.notify()

    def stop(self) -> None:
        """Finish the commit in hand (and one waiting), then end the thread (reactor)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while (pending := self._next()) is not None:
            cursors, generation = pending
            self.report(cursors, save(self.cursors, cursors), generation)

    def _next(self) -> tuple[Cursors, int] | None:
        with self._cond:
            while self._pending is None and not self._stopping:
                self._cond.wait()
            pending, self._pending = self._pending, None
            return pending


def save(cursor_file: CursorFile, cursors: Cursors) -> OSError | None:
    """Save ``cursors``; the error the disk refused them with, or None (any thread)."""
    try:
        cursor_file.commit(cursors)
    except OSError as exc:
        return exc
    return None
