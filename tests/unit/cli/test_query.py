"""hub.cli.query in-process: where the archive is (--url, the config's archive consumer, the
errors and their exit codes), what the options ask, and the table and JSON lines it prints."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from hub.cli.main import build_parser, main
from hub.cli.query import archive_url, query_of
from hub.errors import ConfigError
from hub.storage.archive import ArchiveStore
from hub.storage.archive.location import default_url
from hub.storage.archive.query import Query
from tests.archive_samples import sample_records


def _config(tmp_path: Path, consumers: dict[str, Any]) -> Path:
    path = tmp_path / "hub.yaml"
    data = {"endpoints": ["tcp://127.0.0.1:9940"], "state_dir": str(tmp_path / "state"),
            "consumers": consumers}  # fmt: skip
    path.write_text(yaml.safe_dump(data))
    return path


def _args(*argv: str) -> Any:
    return build_parser().parse_args(["query", *argv])


ARCHIVE = {"class": "archive"}
LOG = {"class": "log"}


def test_the_only_archive_consumer_is_found_in_the_config(tmp_path: Path) -> None:
    """--config with one archive consumer (beside others): its default SQLite file."""
    config = _config(tmp_path, {"log": LOG, "arch": ARCHIVE})
    want = default_url(str(tmp_path / "state"), "arch")
    assert archive_url(_args("--config", str(config))) == want


def test_an_archive_consumers_url_and_choosing_one_by_name(tmp_path: Path) -> None:
    """With two, --consumer chooses; each one's config.url is its database."""
    url = "postgresql+psycopg://a@db/archive"
    config = _config(tmp_path, {"a": {**ARCHIVE, "config": {"url": url}}, "b": ARCHIVE})
    assert archive_url(_args("--config", str(config), "--consumer", "a")) == url
    with pytest.raises(ConfigError, match=r"several archive consumers \(a, b\): name one"):
        archive_url(_args("--config", str(config)))


@pytest.mark.parametrize(("consumers", "argv", "message"), [
    ({"log": LOG}, (), "no archive consumer is enabled"),
    ({"arch": {**ARCHIVE, "enabled": False}}, (), "no archive consumer is enabled"),
    ({"arch": ARCHIVE, "log": LOG}, ("--consumer", "log"),
     "log is not an enabled archive consumer; archive consumers: arch"),
])  # fmt: skip
def test_config_errors_name_the_archive_consumers(
    tmp_path: Path, consumers: dict[str, Any], argv: tuple[str, ...], message: str
) -> None:
    """No (enabled) archive consumer, or --consumer naming another kind: a ConfigError (3)."""
    config = _config(tmp_path, consumers)
    with pytest.raises(ConfigError, match=message) as caught:
        archive_url(_args("--config", str(config), *argv))
    assert caught.value.exit_code == 3


def test_url_and_consumer_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    """--url says where; with --consumer too it is a usage error (2)."""
    with pytest.raises(SystemExit) as caught:
        _args("--url", "x.sqlite", "--consumer", "a")
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_options_become_the_query() -> None:
    """Repeated options are tuples (ORed); --since accepts a span; --oldest-first is asc."""
    before = datetime.datetime.now(datetime.UTC)
    args = _args("--topic", "a.*", "--topic", "b.*", "--category", "bodhi", "--user", "ralph",
                 "--package", "kernel", "--since", "1h", "--until", "2024-03-01T00:00:00Z",
                 "--msg-id", "m1", "--oldest-first")  # fmt: skip
    after = datetime.datetime.now(datetime.UTC)
    query = query_of(args)
    march = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
    assert query == Query(topics=("a.*", "b.*"), categories=("bodhi",), users=("ralph",),
                          packages=("kernel",), msg_id="m1", start=query.start, end=march,
                          order="asc")  # fmt: skip
    hour = datetime.timedelta(hours=1)
    assert query.start is not None and before - hour <= query.start <= after - hour
    assert query_of(_args()).order == "desc" and _args().limit == 100


@pytest.mark.parametrize("argv", [("--since", "yesterday"), ("--limit", "-1"), ("--limit", "x")])
def test_bad_values_are_usage_errors(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """A time or limit that does not parse: exit 2, the option named."""
    with pytest.raises(SystemExit) as caught:
        _args(*argv)
    assert caught.value.code == 2
    assert f"argument {argv[0]}" in capsys.readouterr().err


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "archive.sqlite"
    store = ArchiveStore(str(path)).open()
    store.write(sample_records())
    store.close()
    return path


def test_the_table_newest_first_then_the_count(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --json: a header, one row per message newest first, and how many."""
    assert main(["query", "--url", str(archive), "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TIME", "(UTC)", "TOPIC", "USERS", "MSG_ID"]
    assert lines[-1] == "3 message(s)" and len(lines) == 5
    times = [line[:19] for line in lines[1:4]]
    assert times == sorted(times, reverse=True)
    assert lines[1].startswith("2019-08-06 19:06:17  org.fedoraproject.stg.openqa.job.done")


def test_json_lines_one_envelope_each(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json: each line one JSON object with topic, msg, msg_id, timestamp, i; --limit 0 all."""
    assert (
        main(["query", "--url", str(archive), "--json", "--limit", "0", "--category", "git"]) == 0
    )
    envelopes = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(envelopes) == 12
    assert all({"topic", "msg", "msg_id", "timestamp", "i"} <= e.keys() for e in envelopes)
    assert all(".git." in e["topic"] for e in envelopes)


def test_no_archive_is_exit_7_and_nothing_is_created(tmp_path: Path) -> None:
    """A URL where there is no archive: exit 7, and the file is not made."""
    path = tmp_path / "none.sqlite"
    assert main(["query", "--url", str(path)]) == 7
    assert not path.exists()
