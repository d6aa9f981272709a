"""The hub's durable state under ``state_dir``: the shared log, the cursors, every spool.

Runs on the reactor thread (``open``, ``spool_for``, ``forget``, ``commit``, ``close``); the
spools it creates are also used by worker threads (see `hub.storage.spool`), and the cursor file is
written by the ``store:commit`` thread (`hub.storage.committer`), which reports back to the reactor.

``<state_dir>/log/`` holds the segments, ``<state_dir>/cursors.json`` each consumer's first
unfinished seq, ``<state_dir>/deadletters.sqlite`` the dead letters (`hub.storage.deadletters`).
``commit`` runs every ``backlog.commit_interval_s``: it has the cursors saved and, once they
are, deletes segments every consumer (running or halted) has finished with. ``close`` saves
them one last time on the reactor itself.

A consumer's starting point is durable before the hub accepts a message for it: ``persist``
has the cursors saved at once and fires when they are on disk; the service waits for it before
input opens (start) and before routing to a consumer a reload added. A consumer the cursor file
does not name (no file, an unreadable one, or one from before it was added) starts at the oldest
record kept: at least once, never skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import defer

from hub.config import HubConfig
from hub.routing.topics import TopicMatcher
from hub.storage.committer import Committer, save
from hub.storage.cursors import CursorFile
from hub.storage.private import make_private
from hub.storage.spool import Spool
from hub.storage.store import SegmentLog
from hub.workers.workqueue import WorkQueue

log = logging.getLogger(__name__)

MB = 1 << 20
WINDOW_SHARE = 0.5  # of the memory budget, shared out between the consumers' windows
ITEM_COST = 4  # decoded Python objects cost about this many times the message's wire size


class Durable:
    """Owns the log and cursor file; makes and commits each consumer's `Spool`."""

    def __init__(self, config: HubConfig, call_from_thread: Callable[..., object]) -> None:
        self.config = config
        b = config.backlog
        self.state_dir = Path(config.state_dir)
        self.store = SegmentLog(
            self.state_dir / "log",
            segment_bytes=b.segment_mb * MB,
            fsync=b.fsync,
            fsync_interval_ms=b.fsync_interval_ms,
        )
        self.cursors = CursorFile(self.state_dir / "cursors.json", b.fsync != "never")
        self.spools: dict[str, Spool] = {}
        self.retired: dict[str, Spool] = {}  # an instance a reload is replacing, until forgotten
        self.saved: dict[str, int] = {}
        self.removed: set[str] = set()  # removed by a reload: back at the log's end if re-added
        self.commit_errors = 0
        self.committer: Committer | None = None
        self._call = call_from_thread  # the committer thread reports back through it
        self._closed = False
        self._submitted = 0  # commits numbered as submitted
        self._persisted: list[tuple[int, defer.Deferred[None]]] = []  # waiting for that commit

    @property
    def max_disk_bytes(self) -> int:
        return self.config.backlog.max_disk_mb * MB

    def open(self) -> None:
        """Load the cursors, recover the log, start the committer thread."""
        make_private(self.state_dir)  # may raise UnsafeStateDir, naming it
        self.saved = self.cursors.load()
        self.store.open(min_next_seq=max([0, *self.saved.values()]))
        self.committer = Committer(self.cursors, self._report)
        self.committer.start()

    def window_bytes(self, consumers: int) -> int:
        """The byte bound of one consumer's in-memory window."""
        budget = self.config.backlog.memory_budget_mb * MB * WINDOW_SHARE
        return int(budget / max(1, consumers) / ITEM_COST)

    def spool_for(
        self, name: str, queue: WorkQueue, matcher: TopicMatcher, *, input_open: bool
    ) -> Spool:
        """A spool for ``queue``, positioned by `start_point`; when a reload replaces a running
        instance, where that instance's disk backlog starts (its in-memory window is handed over
        by the reload itself)."""
        spool = Spool(name, queue, reader=self.store.reader(), accepts=matcher.matches)
        end = self.store.next_seq
        old = self.spools.get(name)
        if old is not None:
            with old.lock:
                cursor = old.disk_from if old.spilled else end
            self.retired[name] = old
        else:
            cursor = self.start_point(name, input_open=input_open)
        spool.resume(min(cursor, end), end)
        self.spools[name] = spool
        return spool

    def start_point(self, name: str, *, input_open: bool) -> int:
        """Where a consumer with no running instance starts:

        - removed earlier in this run, or first seen while input is open (a reload added it):
          the log's end. Its backlog was dropped and counted at the removal (its saved cursor
          may be older than what it finished while draining); what the log holds from before
          it was added was never its.
        - otherwise its saved cursor, or the oldest record kept when the cursor file does not
          name it (no file, an unreadable one, a consumer new to it): at least once, never
          skipped.
        """
        end = self.store.next_seq
        if name in self.removed:
            self.removed.discard(name)
            return end
        if name not in self.saved and input_open:
            return end
        return self._saved_cursor(name, end)

    def _saved_cursor(self, name: str, end: int) -> int:
        """Where ``name`` resumes at start-up: its saved cursor, else the oldest record kept."""
        oldest = self.store.oldest_seq
        cursor = self.saved.get(name)
        if cursor is None:
            if oldest < end:
                log.warning("consumer %s: no saved cursor in %s; starting at the oldest record "
                            "kept, seq %d (%d record(s) to read back, at least once)", name,
                            self.cursors.path, oldest, end - oldest)  # fmt: skip
            return oldest
        if cursor < oldest:
            log.error("consumer %s: its cursor %d is older than the oldest record kept (%d); "
                      "resuming there", name, cursor, oldest)  # fmt: skip
            return oldest
        return cursor

    def forget(self, name: str, replaced: bool = False) -> int:
        """An instance stopped: if ``replaced`` its successor's spool stays, else the consumer
        was removed and its cursor no longer holds segments back. Returns how many of its
        messages were still waiting on disk, now abandoned (0 when replaced)."""
        spools = [self.retired.pop(name, None)]
        abandoned = 0
        if not replaced:
            self.removed.add(name)
            removed = self.spools.pop(name, None)
            abandoned = removed.on_disk(self.store.next_seq) if removed is not None else 0
            spools.append(removed)
        for spool in spools:
            if spool is not None:
                spool.reader.close()
        return abandoned

    def points(self) -> dict[str, int]:
        """Each consumer's first unfinished seq, now."""
        end = self.store.next_seq
        points = {name: spool.commit_point(end) for name, spool in self.spools.items()}
        for name, old in self.retired.items():
            if name in points:
                points[name] = min(points[name], old.commit_point(end))
        return points

    def commit(self) -> None:
        """Have the cursors saved (on the committer thread); `_committed` follows."""
        if self.committer is not None:
            self._submitted += 1
            self.committer.submit(self.points(), self._submitted)

    def persist(self) -> defer.Deferred[None]:
        """Have every spool's point saved now; fires once a commit taken after this call is on
        disk. A commit the disk refuses is retried every commit interval until one succeeds."""
        done: defer.Deferred[None] = defer.Deferred()
        self.commit()
        self._persisted.append((self._submitted, done))
        return done

    def _report(self, points: dict[str, int], error: OSError | None, generation: int) -> None:
        self._call(self._committed, points, error, generation)  # committer thread -> reactor

    def _committed(self, points: dict[str, int], error: OSError | None, generation: int) -> None:
        """The cursors are saved: delete the segments nobody needs and fire the `persist`
        calls this commit covers. If they could not be saved (a full disk), log and count it
        and keep every segment: the saved cursors, older, may still point into them; the next
        commit tries again."""
        if self._closed:
            return  # close() committed newer cursors itself
        if error is not None:
            self.commit_errors += 1
            log.error("cannot commit the cursors to %s: %s; keeping every log segment, the "
                      "next commit tries again", self.cursors.path, error)  # fmt: skip
            return
        self.saved = points
        self._fire_persisted(generation)
        # the points were worked out before the write: a consumer a reload added since may
        # need older records than they say, so the current points bound the release too
        needed = min([*points.values(), *self.points().values()], default=self.store.next_seq)
        freed = self.store.release(needed)
        if freed:
            log.debug("store: released %d bytes", freed)

    def _fire_persisted(self, generation: int) -> None:
        waiting, self._persisted = self._persisted, []
        for wanted, done in waiting:
            if wanted <= generation:
                done.callback(None)
            else:
                self._persisted.append((wanted, done))

    def close(self) -> None:
        """Final commit, on this thread, then flush and close (shutdown, after the workers
        stopped)."""
        if self.committer is not None:
            self.committer.stop()
        points = self.points()
        self._submitted += 1
        self._committed(points, save(self.cursors, points), self._submitted)
        self._closed = True
        self.store.close()
        for spool in self.spools.values():
            spool.reader.close()

    def snapshot(self, name: str) -> dict[str, Any]:
        """The backlog figures of one consumer for its status entry."""
        spool = self.spools.get(name)
        if spool is None:
            return {}
        return {
            "spilled": spool.spilled,
            "spills": spool.spills,
            "read_back": spool.read_back,
            "cursor": self.saved.get(name),
        }

    def hub_snapshot(self) -> dict[str, Any]:
        """Hub-wide figures of the log."""
        return {
            "log_bytes": self.store.disk_bytes,
            "log_max_bytes": self.max_disk_bytes,
            "log_segments": len(self.store.segments),
            "log_next_seq": self.store.next_seq,
            "log_writes": self.store.writes,
            "cursor_commit_errors": self.commit_errors,
            "log_sync_errors": self.store.sync_errors,
            "log_rotate_errors": self.store.rotate_errors,
            "fsync": self.config.backlog.fsync,
            "state_dir": str(self.state_dir),
        }
