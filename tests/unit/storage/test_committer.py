"""hub.storage.committer: the cursors are saved on their own thread, newest first, never on the
reactor."""

from __future__ import annotations

import threading
from pathlib import Path

from hub.storage.committer import Committer, Cursors
from hub.storage.cursors import CursorFile


class SlowDisk(CursorFile):
    """A cursor file whose first commit waits until the test lets it go."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, fsync=True)
        self.entered, self.release = threading.Event(), threading.Event()

    def commit(self, cursors: dict[str, int]) -> bool:
        self.entered.set()
        assert self.release.wait(10)
        return super().commit(cursors)


def test_a_newer_commit_replaces_one_not_started_and_stop_finishes_the_one_in_hand(
    tmp_path: Path,
) -> None:
    """While {a: 1} is being written, {a: 2} then {a: 3} arrive: only {a: 3} follows it, on
    the committer's own thread; stop waits for it; the file holds the newest cursors."""
    disk = SlowDisk(tmp_path / "cursors.json")
    reports: list[tuple[Cursors, OSError | None, str]] = []
    committer = Committer(
        disk, lambda c, e, g: reports.append((c, e, threading.current_thread().name))
    )
    committer.start()
    committer.submit({"a": 1})
    assert disk.entered.wait(10)
    committer.submit({"a": 2})
    committer.submit({"a": 3})
    disk.release.set()
    committer.stop()
    assert reports == [({"a": 1}, None, "store:commit"), ({"a": 3}, None, "store:commit")]
    assert CursorFile(tmp_path / "cursors.json", fsync=False).load() == {"a": 3}


def test_a_refused_commit_is_reported_with_its_error(tmp_path: Path) -> None:
    """An OSError from the disk reaches the report, not the thread's death."""
    missing = CursorFile(tmp_path / "no-such-dir" / "cursors.json", fsync=True)
    reports: list[tuple[Cursors, OSError | None]] = []
    committer = Committer(missing, lambda c, e, g: reports.append((c, e)))
    committer.start()
    committer.submit({"a": 1})
    committer.stop()
    assert len(reports) == 1 and isinstance(reports[0][1], FileNotFoundError)
