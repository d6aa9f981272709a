"""The archive: every message stored in datanommer.models 1.5.0's schema, so datanommer's and
datagrepper's own code can read it (SQLite embedded, or PostgreSQL by URL).

No code here; each module's docstring names the thread its code runs on (the archive
consumer's worker thread). `ArchiveStore` opens and writes; `ArchiveRecord` is what it stores.
"""

from hub.storage.archive.errors import (
    ArchiveError,
    ArchiveSchemaMismatch,
    ArchiveUnavailable,
    ArchiveWriteError,
)
from hub.storage.archive.records import ArchiveRecord, category
from hub.storage.archive.store import ArchiveStore

__all__ = [
    "ArchiveError",
    "ArchiveRecord",
    "ArchiveSchemaMismatch",
    "ArchiveStore",
    "ArchiveUnavailable",
    "ArchiveWriteError",
    "category",
]
