"""/archive/raw on a real StatusServer listening on a real loopback port, asked by a real HTTP
client: its answers are what datagrepper 1.x's /raw gives for the same parameters over the same
database (datagrepper's steps, done here with datanommer.models' own grep and as_dict), on
SQLite and PostgreSQL; the queries run on the page's own archive-raw thread."""

from __future__ import annotations

import datetime
import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from hub.config import config_from_dict
from hub.observe.archive_raw import ArchiveRaw, status_server
from hub.observe.status import StatusServer
from hub.storage.archive import ArchiveStore
from hub.storage.archive.reader import ArchiveReader
from tests.archive_samples import datanommer_reading, sample_records
from tests.integration.servers.postgresql import PostgreSQL
from tests.integration.transports.amqp.support import ReactorThread

pytestmark = pytest.mark.integration

NOW = 1_709_294_400.0  # the page's clock: 2024-03-01 12:00 UTC
FILTERS = ("user", "package", "category", "topic", "agent", "contains")


class DatagrepperEncoder(json.JSONEncoder):
    """datagrepper's JSON encoder: a datetime as ``time.mktime()`` of it."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):
            return time.mktime(o.timetuple())
        return super().default(o)


def _first(args: dict[str, list[str]], name: str) -> str | None:
    return args[name][0] if name in args else None


def _seconds(text: str | None) -> float | None:
    """datagrepper's datetime_to_timestamp: a float, else a date string (UTC if naive)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        moment = datetime.datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)).timestamp()


def _assembled(args: dict[str, list[str]]) -> tuple[Any, Any, Any]:
    """start, end, delta as datagrepper assembles them (its DEFAULT_QUERY_DELTA is 0)."""
    start, end = _seconds(_first(args, "start")), _seconds(_first(args, "end"))
    delta = None if (d := _first(args, "delta")) is None else float(d)
    given = (start is not None, end is not None, delta is not None)
    rules = {
        (False, False, False): lambda: (None, None, None),
        (False, False, True): lambda: (NOW - delta, NOW, delta),
        (False, True, False): lambda: (0, end, None),
        (False, True, True): lambda: (end - delta, end, delta),
        (True, False, False): lambda: (start, NOW, NOW - start),
        (True, False, True): lambda: (start, start + delta, delta),
        (True, True, False): lambda: (start, end, end - start),
        (True, True, True): lambda: (start, end, end - start),
    }
    return rules[given]()  # type: ignore[no-untyped-call]


def datagrepper_raw(dm: Any, args: dict[str, list[str]]) -> dict[str, Any]:
    """What datagrepper's /raw view answers for ``args``: its time range, its grep() call
    (local time = UTC here), its response dict, through its encoder."""
    start, end, delta = _assembled(args)
    lists = {f"{n}s" if n != "contains" else n: args.get(n, []) for n in FILTERS}
    lists["categories"] = lists.pop("categorys")
    nots = {f"not_{k}": args.get(f"not_{k[:-1] if k != 'categories' else 'category'}", [])
            for k in ("users", "packages", "categories", "topics", "agents")}  # fmt: skip
    page, rows = int(_first(args, "page") or 1), int(_first(args, "rows_per_page") or 25)
    order = _first(args, "order") or "desc"
    total, pages, messages = dm.Message.grep(
        start=start and datetime.datetime.fromtimestamp(start),
        end=end and datetime.datetime.fromtimestamp(end),
        page=page, rows_per_page=rows, order=order, **lists, **nots,
    )  # fmt: skip
    arguments = {"start": start, "delta": delta, "end": end, **lists, **nots, "page": page,
                 "rows_per_page": rows, "order": order, "meta": []}  # fmt: skip
    out = {"raw_messages": [m.as_dict() for m in messages], "total": total, "pages": pages,
           "count": len(messages), "arguments": arguments}  # fmt: skip
    return json.loads(json.dumps(out, cls=DatagrepperEncoder))  # type: ignore[no-any-return]


CASES = [
    "", "rows_per_page=100&page=2", "category=bodhi&category=pagure&order=asc&rows_per_page=10",
    "user=ralph&user=pingou&rows_per_page=7&page=3",
    "topic=org.fedoraproject.prod.git.receive&topic=org.fedoraproject.prod.bodhi.update.comment",
    "start=1356998400&end=1467288000&not_category=pagure&rows_per_page=50",
    "start=2013-01-01T00:00:00&delta=86400000&order=asc", "package=valgrind&package=texlive",
    "agent=apache&not_user=ralph", "not_topic=org.fedoraproject.prod.git.receive&page=4",
    "contains=kernel&category=bodhi&delta=86400", "delta=3600", "page=99", "not_agent=apache",
]  # fmt: skip


def same_page(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    """The same timestamps in order; the same messages at each timestamp that does not reach
    the page's edges (datanommer orders by timestamp alone: ties at an edge may split either
    way; ours break them by id)."""
    assert [m["timestamp"] for m in ours] == [m["timestamp"] for m in theirs]
    edges = {ours[0]["timestamp"], ours[-1]["timestamp"]} if ours else set()
    inner = sorted(json.dumps(m, sort_keys=True) for m in ours if m["timestamp"] not in edges)
    assert inner == sorted(json.dumps(m, sort_keys=True) for m in theirs
                           if m["timestamp"] not in edges)  # fmt: skip


def get(port: int, query: str, timeout: float = 20.0) -> tuple[int, dict[str, Any]]:
    """GET /archive/raw?query with urllib; the status and the decoded JSON body."""
    url = f"http://127.0.0.1:{port}/archive/raw?{query}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            assert response.headers["content-type"] == "application/json"
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _serve(reactor_thread: ReactorThread, url: str) -> Iterator[int]:
    reactor = reactor_thread.reactor
    config = config_from_dict({"endpoints": ["tcp://a:1"], "status": {"port": 0}})
    raw = ArchiveRaw(reactor, url, clock=lambda: NOW)
    server = StatusServer(reactor, config.status, snapshot=dict, readiness=list,
                          extras={b"archive": raw})  # fmt: skip
    port = reactor_thread.call(server.start)
    try:
        yield port
    finally:
        reactor_thread.call(server.stop)


def _args(query: str) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(query)


def _fill(url: str) -> str:
    store = ArchiveStore(url).open()
    store.write(sample_records())
    store.close()
    return url


@pytest.fixture(scope="module")
def sqlite_archive(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _fill(f"sqlite:///{tmp_path_factory.mktemp('raw') / 'archive.sqlite'}")


@pytest.fixture(scope="module")
def postgresql_archive(postgresql: PostgreSQL) -> str:
    return _fill(postgresql.url(postgresql.create_database()))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_answers_are_datagreppers(
    request: pytest.FixtureRequest, reactor_thread: ReactorThread, backend: str, utc: None
) -> None:
    """For each query string: total, pages, count and arguments exactly datagrepper's, and the
    raw_messages datanommer's as_dict() of the same rows, key for key, page for page."""
    url = request.getfixturevalue(f"{backend}_archive")
    with datanommer_reading(url) as dm:
        for port in _serve(reactor_thread, url):
            for query in CASES:
                code, ours = get(port, query)
                theirs = datagrepper_raw(dm, _args(query))
                assert code == 200, (query, ours)
                same_page(ours.pop("raw_messages"), theirs.pop("raw_messages"))
                assert ours == theirs, query
                assert ours["pages"] == math.ceil(
                    ours["total"] / ours["arguments"]["rows_per_page"]
                )


def test_every_page_in_turn_is_every_message(
    reactor_thread: ReactorThread, sqlite_archive: str
) -> None:
    """Walking pages 1..pages of 30 gives each stored message exactly once, newest first."""
    for port in _serve(reactor_thread, sqlite_archive):
        code, first = get(port, "rows_per_page=30")
        seen = [m for page in range(1, first["pages"] + 1)
                for m in get(port, f"rows_per_page=30&page={page}")[1]["raw_messages"]]  # fmt: skip
        assert code == 200 and len(seen) == first["total"] == 331
        assert len({(m["msg_id"], m["timestamp"]) for m in seen}) == 331
        assert [m["timestamp"] for m in seen] == sorted(
            (m["timestamp"] for m in seen), reverse=True
        )


def test_end_alone_bounds_the_range(reactor_thread: ReactorThread, sqlite_archive: str) -> None:
    """end without start or delta: from epoch 0 to end (datagrepper 1.x computes the same
    range, then drops it because its start, 0, is false; documented in docs/archive.md)."""
    for port in _serve(reactor_thread, sqlite_archive):
        _code, bounded = get(port, "end=1356998400&rows_per_page=100")
        assert bounded["arguments"]["start"] == 0.0 and 0 < bounded["total"] < 331
        assert all(m["timestamp"] <= 1356998400 for m in bounded["raw_messages"])


def test_bad_parameters_and_no_archive(reactor_thread: ReactorThread, tmp_path: Any) -> None:
    """A bad parameter: 400 naming it; no archive at the URL yet: 503 saying so, and nothing
    created; once the archive exists the next request is answered."""
    path = tmp_path / "later.sqlite"
    for port in _serve(reactor_thread, str(path)):
        assert get(port, "rows_per_page=500") == (
            400,
            {"error": "rows_per_page must be from 1 to 100", "parameter": "rows_per_page"},
        )
        code, body = get(port, "")
        assert code == 503 and body["error"].startswith("no archive at sqlite:///")
        assert not path.exists()
        _fill(str(path))
        code, body = get(port, "rows_per_page=1")
        assert code == 200 and body["total"] == 331


def test_queries_run_on_the_archive_raw_thread(
    reactor_thread: ReactorThread, sqlite_archive: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database is read on the page's own thread, not the reactor's nor its shared pool."""
    threads: list[str] = []
    count = ArchiveReader.count

    def recording(self: ArchiveReader, query: Any) -> int:
        threads.append(threading.current_thread().name)
        return count(self, query)

    monkeypatch.setattr(ArchiveReader, "count", recording)
    for port in _serve(reactor_thread, sqlite_archive):
        for _ in range(3):
            assert get(port, "rows_per_page=1")[0] == 200
    assert len(threads) == 3 and all("archive-raw" in name for name in threads), threads
    assert reactor_thread.thread.name not in threads


def test_status_server_of_a_config_serves_its_archive_consumers_database(
    reactor_thread: ReactorThread, sqlite_archive: str
) -> None:
    """status_server(config): status.archive_raw names the consumer; /status still answers."""
    config = config_from_dict({
        "endpoints": ["tcp://a:1"], "status": {"port": 0, "archive_raw": "arch"},
        "consumers": {"arch": {"class": "archive", "config": {"url": sqlite_archive}}},
    })  # fmt: skip
    server = status_server(reactor_thread.reactor, config, snapshot=lambda: {"ok": 1},
                           readiness=list)  # fmt: skip
    port = reactor_thread.call(server.start)
    try:
        code, body = get(port, "category=bodhi")
        assert code == 200 and body["total"] == 31
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10) as page:
            assert json.loads(page.read()) == {"ok": 1}
    finally:
        reactor_thread.call(server.stop)
    off = status_server(reactor_thread.reactor, config_from_dict({"endpoints": ["tcp://a:1"]}),
                        snapshot=dict, readiness=list)  # fmt: skip
    assert b"archive" not in off.extras and b"" in off.extras  # the status page is always on
