"""The archive consumer in a real hub subprocess, on a real PostgreSQL and on SQLite: the samples
go over ZeroMQ into the archive and datanommer.models' own code reads them back; redeliveries
(sent twice, or after a kill -9 before the cursor was committed) leave one row each; a database
stopped for 10 s mid-stream loses and duplicates nothing."""

from __future__ import annotations

import datetime
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from hub.storage.archive import ArchiveRecord
from tests.archive_samples import assert_reads_back, datanommer_reading, schema_concerns
from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    hub_config,
    sample_envelopes,
    wait_until,
)
from tests.integration.servers.postgresql import PostgreSQL, require_bin

pytestmark = pytest.mark.integration

BASE_TIME = 1_700_000_000.0  # for the samples sent without a timestamp


@pytest.fixture(params=["postgresql", "sqlite"])
def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the archive goes: a fresh PostgreSQL database, or a SQLite file."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgresql_db"))
    return f"sqlite:///{tmp_path / 'archive.sqlite'}"


def envelopes() -> list[dict[str, Any]]:
    """The samples, each with a unique msg_id and a timestamp."""
    out = sample_envelopes()
    for n, env in enumerate(out):
        env.setdefault("timestamp", BASE_TIME + n)
    return out


def expected(env: dict[str, Any]) -> ArchiveRecord:
    """What the archive should hold for a sent envelope, from the envelope itself and
    fedora-messaging's own schema classes."""
    users, packages, agent = schema_concerns(env["topic"], env["msg"])
    return ArchiveRecord(
        topic=env["topic"], body=env["msg"], msg_id=env["msg_id"], i=env["i"],
        timestamp=datetime.datetime.fromtimestamp(env["timestamp"], datetime.UTC),
        headers=env.get("headers") if isinstance(env.get("headers"), dict) else None,
        certificate=env.get("certificate"), signature=env.get("signature"),
        crypto=env.get("crypto"), usernames=users, packages=packages, agent_name=agent,
    )  # fmt: skip


def archive_hub(tmp_path: Path, endpoint: str, url: str | None, **extra: Any) -> HubProcess:
    entry: dict[str, Any] = {"class": "archive", "config": {"url": url} if url else {}}
    return HubProcess(tmp_path, hub_config(endpoint, {"archive": entry}, **extra))


def archived(hub: HubProcess) -> dict[str, Any]:
    return hub.status()["consumers"]["archive"]  # type: ignore[no-any-return]


def wait_done(hub: HubProcess, count: int, timeout: float = 60.0) -> dict[str, Any]:
    return wait_until(  # type: ignore[no-any-return]
        lambda: doc if (doc := archived(hub))["done"] >= count else None,
        timeout, f"{count} messages archived",
    )  # fmt: skip


def rows(url: str) -> tuple[int, int]:
    """(rows in messages, distinct msg_ids among them)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*), count(DISTINCT msg_id) FROM messages")
            total, distinct = conn.execute(query).one()
            return int(total), int(distinct)
    finally:
        engine.dispose()


def send_all(publisher: TestPublisher, envs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send each envelope; what was sent (with the ``i`` the publisher numbered it by)."""
    return [publisher.send(env) for env in envs]


def test_the_samples_are_archived_and_datanommer_reads_them_back(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], archive_url: str
) -> None:
    """401 samples through the hub: datanommer's grep by topic, category and user returns
    exactly them, with the users and packages fedora-messaging's classes name."""
    hub = archive_hub(tmp_path, publisher.endpoint, archive_url)
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    sent = send_all(publisher, envelopes())
    doc = wait_done(hub, len(sent))
    assert (doc["failed"], doc["dead_letters"], doc["counters"]["skipped"]) == (0, 0, 0)
    assert hub.stop() == 0
    written = [expected(env) for env in sent]
    assert sum(1 for r in written if r.usernames) >= 5, "some samples should name users"
    with datanommer_reading(archive_url):
        checked = assert_reads_back(written)
    assert checked["users"] >= 3 and checked["topics"] > 50


def test_the_embedded_default_is_a_sqlite_file_under_state_dir(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """No url: the archive is <state_dir>/archive/<name>.sqlite, and datanommer reads it."""
    hub = archive_hub(tmp_path, publisher.endpoint, None)
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    sent = send_all(publisher, envelopes()[:50])
    wait_done(hub, len(sent))
    assert hub.stop() == 0
    path = tmp_path / "state" / "archive" / "archive.sqlite"
    assert rows(f"sqlite:///{path}") == (50, 50)
    with datanommer_reading(f"sqlite:///{path}"):
        assert_reads_back([expected(env) for env in sent])


def test_messages_sent_twice_are_one_row_each_and_counted_skipped(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], archive_url: str
) -> None:
    """The same messages again: every one done, none a second row, each counted skipped."""
    hub = archive_hub(tmp_path, publisher.endpoint, archive_url)
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    sent = envelopes()[:120]
    send_all(publisher, sent)
    wait_done(hub, 120)
    send_all(publisher, sent)
    doc = wait_done(hub, 240)
    assert (doc["counters"]["skipped"], doc["failed"]) == (120, 0)
    _, metrics = hub.get("/metrics")
    skipped = b'consumer_hub_consumer_events_total{consumer="archive",event="skipped"} 120.0'
    assert skipped in metrics
    assert rows(archive_url) == (120, 120)


def test_kill_9_after_the_write_before_the_cursor_commit_leaves_one_row_each(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], archive_url: str
) -> None:
    """kill -9 once rows are written but the cursor is not: the restart delivers them again,
    each is skipped, and the archive still has one row per message."""
    never = {"commit_interval_s": 3600}  # the cursor stays where the start-up left it
    hub = archive_hub(tmp_path, publisher.endpoint, archive_url, backlog=never)
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    sent = envelopes()[:200]
    send_all(publisher, sent)
    wait_done(hub, 200)
    assert rows(archive_url) == (200, 200)
    hub.signal(signal.SIGKILL)
    hub.wait()
    again = archive_hub(tmp_path, publisher.endpoint, archive_url)
    hubs.append(again.start())

    def redone() -> dict[str, Any] | None:  # a skip is counted before its report reaches done
        d = archived(again)
        return d if d["counters"]["skipped"] >= 200 and d["done"] >= 200 else None

    doc = wait_until(redone, 60, "the redelivered messages skipped and reported done")
    assert (doc["done"], doc["failed"]) == (200, 0)
    assert rows(archive_url) == (200, 200)


@pytest.fixture
def own_postgresql() -> Iterator[PostgreSQL]:
    """A PostgreSQL cluster of this test's own, to stop and start again."""
    server = PostgreSQL(require_bin()).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_database_stopped_for_10_s_loses_and_duplicates_nothing(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], own_postgresql: PostgreSQL
) -> None:
    """PostgreSQL down for 10 s mid-stream: /ready says why, the backlog waits, and once it is
    back every message is archived once, none failed or dead-lettered."""
    url = own_postgresql.url(own_postgresql.create_database())
    hub = archive_hub(tmp_path, publisher.endpoint, url)
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    sent = envelopes()
    send_all(publisher, sent[:150])
    wait_done(hub, 150)
    own_postgresql.pause()
    stopped = time.monotonic()
    send_all(publisher, sent[150:])
    reason = wait_until(lambda: (r := hub.get("/ready"))[0] == 503 and b"archive waits" in r[1]
                        and r[1], 30, "/ready to name the outage")  # fmt: skip
    assert b"Unavailable" in reason
    wait_until(lambda: archived(hub)["backlog"] > 0, 10, "a backlog while the database is down")
    wait_until(lambda: time.monotonic() - stopped >= 10, 15, "10 s of outage")
    own_postgresql.resume()
    doc = wait_done(hub, len(sent), timeout=90)
    assert (doc["failed"], doc["dead_letters"], doc["done"]) == (0, 0, len(sent))
    wait_until(lambda: hub.get("/ready") == (200, b"ready\n"), 30, "/ready again")
    assert rows(url) == (len(sent), len(sent))


def test_a_database_with_another_schema_stops_the_start_naming_the_differences(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """An existing messages table unlike datanommer's: exit code 4, each difference named."""
    path = tmp_path / "other.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE messages (id INTEGER PRIMARY KEY, topic TEXT)"))
    engine.dispose()
    hub = archive_hub(tmp_path, publisher.endpoint, str(path))
    hubs.append(hub.start(wait_ready=False))
    assert hub.wait() == 4
    assert "the archive schema differs from datanommer's" in hub.log_text()
    assert "table messages: column msg_id is missing" in hub.log_text()


def test_a_running_hub_serves_its_archive_as_datagrepper_raw(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], archive_url: str
) -> None:
    """status.archive_raw: the hub's /archive/raw answers datagrepper's parameters from what
    its archive consumer stored: totals by category, newest first, paged."""
    status = {"host": "127.0.0.1", "port": 0, "archive_raw": "archive"}
    hub = archive_hub(tmp_path, publisher.endpoint, archive_url, status=status)
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    sent = send_all(publisher, envelopes())
    wait_done(hub, len(sent))
    bodhi = [e for e in sent if e["topic"].split(".")[3:4] == ["bodhi"]]
    code, body = hub.get("/archive/raw?category=bodhi&rows_per_page=5&delta=2000000000")
    assert code == 200, body
    page = json.loads(body)
    assert (page["total"], page["count"]) == (len(bodhi), 5)
    assert page["pages"] == -(-len(bodhi) // 5)
    newest = sorted((float(e["timestamp"]) for e in bodhi), reverse=True)[:5]  # some tie
    assert [m["timestamp"] for m in page["raw_messages"]] == newest
    ids = {e["msg_id"] for e in bodhi}
    assert {m["msg_id"] for m in page["raw_messages"]} <= ids
