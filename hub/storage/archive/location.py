"""Where an archive consumer's database is: its ``config.url``, else a SQLite file under
``state_dir``. One definition, read by the archive consumer (its worker thread, at ``setup()``),
by ``consumer-hub query`` and by ``/archive/raw`` (main thread, at start-up).

Pure functions of the validated configuration; no state.
"""

from __future__ import annotations

from pathlib import Path

from hub.config import ConsumerConfig, HubConfig
from hub.config.archive import ARCHIVE_CLASSES

__all__ = ["ARCHIVE_CLASSES", "archive_url", "archives", "default_url"]


def default_url(state_dir: str, consumer: str) -> str:
    """The embedded default: ``<state_dir>/archive/<consumer>.sqlite``."""
    return str(Path(state_dir) / "archive" / f"{consumer}.sqlite")


def archive_url(name: str, consumer: ConsumerConfig, state_dir: str) -> str:
    """The database consumer ``name`` archives into (a URL, or a SQLite file path)."""
    url = consumer.config.get("url")
    return str(url) if url else default_url(state_dir, name)


def archives(config: HubConfig) -> dict[str, str]:
    """Every enabled archive consumer of ``config`` and its database, by consumer name."""
    return {
        name: archive_url(name, consumer, config.state_dir)
        for name, consumer in config.consumers.items()
        if consumer.enabled and consumer.cls in ARCHIVE_CLASSES
    }
