"""The ``interval`` fsync policy: a small thread that fsyncs the active segment every N ms.

Runs on its own thread, ``store:fsync``; `hub.storage.store.SegmentLog` (reactor thread) sets ``fd``
and ``dirty`` and holds ``lock`` while it swaps segments, so an fsync never hits a closed file.
``os.fsync`` releases the GIL: the reactor keeps running while the disk catches up.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)


class Syncer:
    """fsync ``fd`` every ``interval_s`` while ``dirty``."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.fd = -1
        self.dirty = False
        self.lock = threading.Lock()
        self.syncs = 0
        self.errors = 0  # fsyncs that failed (counted in the log's ``sync_errors``)
        self._failing = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="store:fsync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def sync_once(self) -> bool:
        """fsync the active segment if anything was written since the last one."""
        if not self.dirty:
            return False
        with self.lock:
            self.dirty = False
            if self.fd < 0:
                return False
            try:
                os.fsync(self.fd)
            except OSError as exc:
                self.errors += 1
                self.dirty = True  # try again next time
                if not self._failing:
                    log.error("store: fsync failed: %s; the records are written but may not "
                              "survive a power failure; trying again every %.3f s", exc,
                              self.interval_s)  # fmt: skip
                self._failing = True
                return False
        if self._failing:
            log.info("store: fsync works again after %d failure(s)", self.errors)
            self._failing = False
        self.syncs += 1
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sync_once()
