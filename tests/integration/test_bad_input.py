"""Malformed input over a real socket: counted by cause, logged, never delivered, never fatal."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    hub_config,
    recorder,
    sample_envelopes,
    wait_records,
    wait_until,
)

pytestmark = pytest.mark.integration

TOPIC = b"org.fedoraproject.prod.test.bad"
BAD_CASES: dict[str, list[bytes]] = {
    "frames": [TOPIC],
    "frames-3": [TOPIC, b"{}", b"extra"],
    "utf8": [TOPIC, b'{"topic": "x", "msg": "\xff\xfe"}'],
    "utf8-topic": [b"org.fedoraproject.prod.\xff", b'{"msg": {}}'],
    "json": [TOPIC, b'{"topic": "org.fedoraproject.prod.test.bad", "msg": '],
    "not_object": [TOPIC, b"[1, 2, 3]"],
    "no_msg": [TOPIC, orjson.dumps({"topic": TOPIC.decode(), "body": {}})],
    "topic_mismatch": [TOPIC, orjson.dumps({"topic": "org.other", "msg": {}})],
    "oversize": [TOPIC, orjson.dumps({"topic": TOPIC.decode(), "msg": "x" * 5000})],
    "topic_length": [b"org." + b"x" * 200, b'{"msg": {}}'],
    "depth": [TOPIC, b'{"msg": ' + b"[" * 40 + b"]" * 40 + b"}"],
}
EXPECTED_CAUSES = {
    "frames": 2,
    "utf8": 2,
    "json": 1,
    "not_object": 1,
    "no_msg": 1,
    "topic_mismatch": 1,
    "oversize": 1,
    "topic_length": 1,
    "depth": 1,
}


def test_each_kind_of_bad_input_is_counted_and_the_good_ones_around_it_delivered(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """Every malformed case between valid messages: all valid delivered, each bad one counted."""
    path = tmp_path / "good.jsonl"
    config = hub_config(publisher.endpoint, {"r": recorder(path)}, max_message_bytes=4096,
                        max_topic_bytes=100, max_json_depth=16)  # fmt: skip
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    publisher.wait_subscribed()
    good = sample_envelopes()[:20]
    sent = []
    for n, frames in enumerate(BAD_CASES.values()):
        sent.append(publisher.send(good[n]))
        publisher.send_raw(frames)
    sent.append(publisher.send(good[-1]))
    records = wait_records(path, len(sent))
    assert [r["msg_id"] for r in records] == [e["msg_id"] for e in sent]
    status = wait_until(
        lambda: s if sum((s := hub.status())["hub"]["decode_errors"].values()) == 11 else None,
        what="11 decode errors counted",
    )
    assert status["hub"]["decode_errors"] == EXPECTED_CAUSES
    assert status["consumers"]["r"]["done"] == len(sent)
    log = hub.log_text()
    for cause in EXPECTED_CAUSES:
        assert f"bad input ({cause})" in log
    assert hub.stop() == 0
