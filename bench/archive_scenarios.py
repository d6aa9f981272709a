"""The archive scenario (issue #16): messages a second the hub archives into PostgreSQL and into
SQLite, against datanommer's own insert path (``datanommer.models.add()``, one message and one
commit at a time, as its consumer does) on the same kind of database, in the same run. Not in
the default suite: it needs PostgreSQL and datanommer.models (``--only archive``).

Runs in the bench process's main thread; the runs are `bench.archive_runs`, the databases
`bench.archive_db` (a private PostgreSQL cluster with durable settings, started here and stopped
at the end; SQLite files in a temporary directory). On each backend the hub and datanommer take
turns in each of the ``--repeat`` rounds, each on a fresh database; a row gives the best round of
each, and the ratio's range over the rounds (``lo-hi``).
"""

from __future__ import annotations

import logging

from bench import report
from bench.archive_db import Backend, Postgres, Sqlite
from bench.archive_publisher import archive_envelopes
from bench.archive_runs import (
    ArchiveRun,
    datanommer_run,
    fedora_messages,
    hub_run,
    names,
)
from bench.report import Row
from bench.session import Session
from hub.data import load_samples

log = logging.getLogger(__name__)

TARGET = 5.0  # the hub's rate over datanommer's, on PostgreSQL
BATCH = "batch_size 256, batch_wait_s 0.05, 1 thread"  # the archive consumer's defaults


def archive(session: Session) -> list[Row]:
    """PostgreSQL, then SQLite: the hub's rate against datanommer's, each round."""
    a = session.settings.archive
    per_sample = names(fedora_messages(archive_envelopes(len(load_samples()), "links")))
    rows = [
        Row(f"hub: {a.messages:,} messages a run ({BATCH}); datanommer: "
            f"{a.datanommer_messages:,}, add() each; both after {len(per_sample)} untimed",
            "", "", None),
    ]  # fmt: skip
    for backend in (Postgres(), Sqlite()):
        try:
            rounds = _rounds(session, backend, per_sample)
            rows += _rows(backend, rounds, backend.name == "PostgreSQL")
        finally:
            backend.close()
    return rows


def _rounds(
    session: Session, backend: Backend, per_sample: list[int]
) -> list[tuple[ArchiveRun, ArchiveRun]]:
    """``--repeat`` rounds of (hub, datanommer) on ``backend``."""
    s = session.settings
    n = s.archive.messages
    rounds = []
    for i in range(s.repeat):
        label = f"archive-{backend.name.lower()}-{n}-{i + 1}"
        hub = hub_run(backend, n, per_sample, s, label)
        baseline = datanommer_run(backend, s.archive.datanommer_messages, len(per_sample))
        log.info("%s round %d: hub %.0f msg/s, datanommer %.0f msg/s", backend.name, i + 1,
                 hub.rate, baseline.rate)  # fmt: skip
        rounds.append((hub, baseline))
    return rounds


def _rows(backend: Backend, rounds: list[tuple[ArchiveRun, ArchiveRun]], target: bool) -> list[Row]:
    """One backend's rows: best rates, the ratio each round, CPU a message."""
    hub = max((h for h, _ in rounds), key=lambda r: r.rate)
    base = max((d for _, d in rounds), key=lambda r: r.rate)
    ratio = hub.rate / base.rate
    ratios = [h.rate / d.rate for h, d in rounds]
    name = backend.name
    verdict = ratio >= TARGET if target else None
    hub_cpu, base_cpu = hub.cpu_per_message * 1e9, base.cpu_per_message * 1e9
    return [
        Row(backend.describe(), "", "", None),
        Row(f"{name}: archived (hub) / add() (datanommer)", report.rate(hub.rate),
            report.rate(base.rate), ratio, f">= {TARGET:g}x" if target else "", verdict),
        Row(f"{name}: hub / datanommer, each round", report.spread(ratios), "", None),
        Row(f"{name}: CPU per message (hub process / datanommer's, server not counted)",
            report.micros(hub_cpu), report.micros(base_cpu), hub_cpu / base_cpu),
    ]  # fmt: skip
