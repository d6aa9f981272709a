"""The archive's typed exceptions.

Raised on the archive consumer's worker thread (by `ArchiveStore.open()` and ``write()``); plain
classes, usable on any thread.
"""

from __future__ import annotations

from hub.errors import StoreError


class ArchiveError(StoreError):
    """Base class of the archive's errors."""


class ArchiveUnavailable(ArchiveError):
    """The database cannot be reached or is busy (refused, dropped, locked): the same call may
    work later, so the consumer retries with backoff; nothing of the batch was written."""


class ArchiveSchemaMismatch(ArchiveError):
    """The database holds tables that differ from datanommer.models 1.5.0's schema; the message
    names each table, column, index or constraint that differs. Nothing was written."""

    def __init__(self, url: str, differences: list[str]) -> None:
        super().__init__(f"{url}: the archive schema differs from datanommer's: "
                         + "; ".join(differences))  # fmt: skip
        self.differences = differences


class ArchiveWriteError(ArchiveError):
    """The database refused the batch for a reason retrying will not cure (a value it cannot
    store); the transaction was rolled back, so nothing of the batch was written."""


class ArchiveMissing(ArchiveError):
    """There is no archive at that URL: no such SQLite file, or a database without the archive's
    tables. Raised by `ArchiveReader.open()`, which never creates one."""
