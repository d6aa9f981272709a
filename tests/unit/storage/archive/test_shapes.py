"""hub.storage.archive.shapes: a stored message as datagrepper's /raw shows it (datanommer's own
as_dict() through datagrepper's encoder, key for key, on the same rows) and as the fedmsg
envelope `consumer-hub query --json` prints (the original sample's fields, decodable again)."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hub.data import load_samples
from hub.storage.archive import ArchiveStore
from hub.storage.archive.query import Query
from hub.storage.archive.reader import ArchivedMessage, ArchiveReader
from hub.storage.archive.records import naive_utc, record_msg_id
from hub.storage.archive.shapes import datagrepper, envelope
from hub.transports.zeromq.codec import decode, encode_envelope
from tests.archive_samples import datanommer_reading, sample_records


class DatagrepperEncoder(json.JSONEncoder):
    """datagrepper 1.x's ``util.DateAwareJSONEncoder``: a datetime as ``time.mktime()``."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime | datetime.date):
            return time.mktime(o.timetuple())
        return super().default(o)


@pytest.fixture(scope="module")
def archive(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, list[ArchivedMessage]]]:
    path = tmp_path_factory.mktemp("archive") / "archive.sqlite"
    store = ArchiveStore(str(path)).open()
    store.write(sample_records())
    store.close()
    reader = ArchiveReader(str(path)).open()
    yield f"sqlite:///{path}", list(reader.messages(Query()))
    reader.close()


def test_raw_messages_are_datanommers_as_dict_key_for_key(
    archive: tuple[str, list[ArchivedMessage]], utc: None
) -> None:
    """For every stored sample, our /raw dict equals datanommer's Message.as_dict() encoded as
    datagrepper encodes it: the same keys, the same values (timestamp: whole seconds, float)."""
    url, ours = archive
    with datanommer_reading(url) as dm:
        theirs = {(m.msg_id, m.timestamp): m for m in dm.Message.grep(rows_per_page=0)[2]}
        assert len(theirs) == len(ours) == 331
        for message in ours:
            want = json.loads(json.dumps(theirs[(message.msg_id, message.timestamp)].as_dict(),
                                         cls=DatagrepperEncoder))  # fmt: skip
            got = json.loads(json.dumps(datagrepper(message)))
            assert got == want
            assert list(got) == list(want)  # the same keys, in datanommer's order


def test_json_lines_are_the_original_envelopes(archive: tuple[str, list[ArchivedMessage]]) -> None:
    """--json's envelope has each field the sample had (topic, msg, msg_id, timestamp to the
    microsecond, i, username, headers, crypto, ...) and the hub's own decoder accepts it."""
    _url, ours = archive
    by_key = {(m.msg_id, m.timestamp): envelope(m) for m in ours}
    compared = 0
    for sample, record in zip(load_samples(), sample_records(), strict=True):
        got = by_key.pop((record_msg_id(record), naive_utc(record.timestamp)), None)
        if got is None:
            continue  # a later sample with the (msg_id, timestamp) of one stored already
        for key in ("topic", "msg", "msg_id", "i", "username", "headers", "crypto",
                    "certificate", "signature", "source_name", "source_version"):  # fmt: skip
            if key in sample:
                assert got.get(key) == sample[key], key  # null: the key is left out
        if "timestamp" in sample:
            assert got["timestamp"] == pytest.approx(sample["timestamp"], abs=1e-6)
        decoded = decode(encode_envelope(got), 1 << 20, 0.0)
        assert decoded.topic == sample["topic"] and decoded.body == sample["msg"]
        compared += 1
    assert compared == 331 and not by_key


def test_an_envelope_leaves_out_what_the_row_does_not_hold() -> None:
    """No username, headers or signature keys with null values: the envelope fedmsg sends."""
    message = ArchivedMessage(
        id=1, msg_id="m", i=0, topic="t.a.b.c",
        timestamp=datetime.datetime(2024, 3, 1, 12, 0, 0, 5),
        certificate=None, signature=None, category="c", agent_name=None, crypto=None,
        source_name=None, source_version=None, msg={"x": 1}, headers=None,
    )  # fmt: skip
    assert envelope(message) == {"topic": "t.a.b.c", "msg": {"x": 1}, "msg_id": "m",
                                 "timestamp": 1709294400.000005, "i": 0}  # fmt: skip
