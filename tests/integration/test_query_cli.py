"""``consumer-hub query`` as a subprocess of the real CLI, on SQLite (the archive consumer's
default file under state_dir) and on the private PostgreSQL: what it prints is what datanommer's
own grep reads from the same database, its JSON lines go back onto the bus through a running
hub unchanged, and each failure is one line on stderr with its documented exit code."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from hub.storage.archive import ArchiveStore
from hub.storage.archive.location import default_url
from hub.storage.archive.query import Query
from hub.storage.archive.shapes import epoch
from tests.archive_queries import theirs
from tests.archive_samples import datanommer_reading, sample_records
from tests.integration.harness import (
    CLI_ENV,
    HubProcess,
    TestPublisher,
    hub_config,
    recorder,
    wait_records,
)
from tests.integration.servers.postgresql import PostgreSQL, free_port

pytestmark = pytest.mark.integration
ENV = CLI_ENV


def query(*argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m hub query ARGV``, as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "hub", "query", *argv], capture_output=True,
                          text=True, timeout=60, env=ENV)  # fmt: skip


def json_lines(*argv: str) -> list[dict[str, Any]]:
    done = query("--json", *argv)
    assert done.returncode == 0, done.stderr
    return [orjson.loads(line) for line in done.stdout.splitlines()]


def _config(tmp_path: Path, consumers: dict[str, Any]) -> Path:
    path = tmp_path / "hub.yaml"
    data = {"endpoints": ["tcp://127.0.0.1:9940"], "state_dir": str(tmp_path / "state"),
            "consumers": consumers}  # fmt: skip
    path.write_text(yaml.safe_dump(data))
    return path


def _fill(url: str) -> None:
    store = ArchiveStore(url).open()
    store.write(sample_records())
    store.close()


def _keys(envelopes: list[dict[str, Any]]) -> list[tuple[str, float]]:
    return [(e["msg_id"], round(e["timestamp"], 3)) for e in envelopes]


def _their_keys(query_: Query) -> list[tuple[str, float]]:
    _total, _pages, messages = theirs(query_)
    return [(m.msg_id, round(epoch(m.timestamp), 3)) for m in messages]


CASES = [  # (CLI options, the same filters for datanommer)
    ((), Query()),
    (("--category", "bodhi", "--category", "pagure"), Query(categories=("bodhi", "pagure"))),
    (("--user", "ralph", "--user", "pingou"), Query(users=("ralph", "pingou"))),
    (("--package", "valgrind"), Query(packages=("valgrind",))),
    (("--topic", "org.fedoraproject.prod.git.receive"),
     Query(topics=("org.fedoraproject.prod.git.receive",))),
    (("--since", "2013-01-01", "--until", "2016-06-30T12:00:00Z", "--category", "pkgdb"),
     Query(categories=("pkgdb",), start=datetime.datetime(2013, 1, 1),
           end=datetime.datetime(2016, 6, 30, 12))),
]  # fmt: skip


def _same_as_datanommer(url: str, where: tuple[str, ...]) -> None:
    with datanommer_reading(url if "://" in url else f"sqlite:///{url}"):
        for argv, filters in CASES:
            got = json_lines(*where, "--limit", "0", *argv)
            assert sorted(_keys(got)) == sorted(_their_keys(filters)) and got, argv
            stamps = [e["timestamp"] for e in got]
            assert stamps == sorted(stamps, reverse=True), argv  # newest first


def test_sqlite_archive_of_the_configs_consumer(tmp_path: Path) -> None:
    """--config finds the archive consumer's default file; every filter reads what datanommer
    greps from it; --limit keeps the newest; the table has a row per message."""
    config = _config(tmp_path, {"log": {"class": "log"}, "archive": {"class": "archive"}})
    path = default_url(str(tmp_path / "state"), "archive")
    Path(path).parent.mkdir(parents=True)
    _fill(path)
    _same_as_datanommer(path, ("--config", str(config)))
    newest = json_lines("--config", str(config), "--limit", "5")
    assert newest == json_lines("--config", str(config), "--limit", "0")[:5]
    table = query("--config", str(config), "--topic", "*.bodhi.*", "--limit", "0")
    assert table.returncode == 0 and table.stdout.splitlines()[-1] == "31 message(s)"


def test_postgresql_archive_by_url(postgresql_db: str) -> None:
    """--url to the real PostgreSQL: the same answers as datanommer's grep there."""
    _fill(postgresql_db)
    _same_as_datanommer(postgresql_db, ("--url", postgresql_db))
    globbed = json_lines("--url", postgresql_db, "--limit", "0", "--topic", "*.prod.[bg]*")
    assert globbed and all(".prod.b" in e["topic"] or ".prod.g" in e["topic"] for e in globbed)


def test_json_lines_go_back_onto_the_bus(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """Each --json line, sent as it is to a running hub, reaches its consumer with the same
    topic, msg_id, body and headers: the shape the bus carries."""
    path = tmp_path / "archive.sqlite"
    _fill(str(path))
    lines = json_lines("--url", str(path), "--limit", "20")
    records = tmp_path / "r.jsonl"
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, {"r": recorder(records)}))
    hubs.append(hub.start())
    publisher.wait_subscribed()
    for envelope in lines:
        publisher.send_raw([envelope["topic"].encode(), orjson.dumps(envelope)])
    got = wait_records(records, len(lines))
    assert [(r["topic"], r["msg_id"], r["body"]) for r in got] == [
        (e["topic"], e["msg_id"], e["msg"]) for e in lines
    ]


def _fails(code: int, text: str, *argv: str) -> None:
    done = query(*argv)
    assert done.returncode == code, done.stderr
    [line] = done.stderr.splitlines()
    assert text in line and done.stdout == ""


def test_each_failure_is_one_line_and_its_exit_code(tmp_path: Path, postgresql: PostgreSQL) -> None:
    """No archive consumer, an unknown or ambiguous one: 3; no file, an empty database, an
    unreachable server: 7; none of them creates anything."""
    none = _config(tmp_path, {"log": {"class": "log"}})
    _fails(3, "no archive consumer is enabled", "--config", str(none))
    two = _config(tmp_path, {"a": {"class": "archive"}, "b": {"class": "archive"}})
    _fails(3, "several archive consumers (a, b): name one with --consumer", "--config", str(two))
    _fails(3, "c is not an enabled archive consumer", "--config", str(two), "--consumer", "c")
    _fails(7, "no archive at sqlite:///", "--config", str(two), "--consumer", "a")
    assert not (tmp_path / "state").exists()
    empty = postgresql.url(postgresql.create_database())
    _fails(7, "it has no messages table", "--url", empty)
    with postgresql.connect(empty.rsplit("/", 1)[1]) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
    _fails(7, "Connection refused", "--url", f"postgresql+psycopg://u@127.0.0.1:{free_port()}/x")
