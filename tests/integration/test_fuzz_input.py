"""Bad input at volume: hypothesis throws malformed frames at a running hub, between valid ones."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    hub_config,
    read_records,
    recorder,
    wait_until,
)

pytestmark = pytest.mark.integration

TOPIC = "org.test.fuzz"
MAX_BYTES = 4096


def envelope_bytes(n: int, body: object) -> bytes:
    return orjson.dumps({"topic": TOPIC, "msg": body, "msg_id": f"fuzz-{n}"})


JSON_BODIES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)
BAD = st.one_of(
    st.lists(st.binary(max_size=30), min_size=0, max_size=5)
    .filter(lambda f: len(f) != 2)
    .map(lambda f: [TOPIC.encode(), *f] if len(f) != 1 else [TOPIC.encode()]),  # frame count
    st.tuples(JSON_BODIES, st.integers(1, 30)).map(  # truncated JSON
        lambda t: [TOPIC.encode(), envelope_bytes(0, t[0])[: -t[1]]]
    ),
    st.integers(MAX_BYTES, 3 * MAX_BYTES).map(  # huge
        lambda n: [TOPIC.encode(), envelope_bytes(0, "x" * n)]
    ),
    st.sampled_from(["latin-1", "utf-16", "cp1252"]).map(  # another encoding
        lambda enc: [TOPIC.encode(), '{"topic": "org.test.fuzz", "msg": "é ø"}'.encode(enc)]
    ),
    st.binary(min_size=1, max_size=50).map(lambda b: [TOPIC.encode(), b"\xff" + b]),
    JSON_BODIES.filter(lambda b: not isinstance(b, dict)).map(
        lambda b: [TOPIC.encode(), orjson.dumps(b)]  # JSON, not an object
    ),
)
STREAM = st.lists(st.tuples(st.booleans(), BAD, JSON_BODIES), min_size=1, max_size=40)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    tmp = tmp_path_factory.mktemp("fuzz")
    publisher = TestPublisher()
    config = hub_config(publisher.endpoint, {"rec": recorder(tmp / "rec.jsonl", [TOPIC])},
                        max_message_bytes=MAX_BYTES, upstream_gaps=False)  # fmt: skip
    hub = HubProcess(tmp, config).start()
    publisher.wait_subscribed([TOPIC])
    yield hub, publisher, tmp / "rec.jsonl", {"valid": 0, "bad": 0}
    code = hub.stop()
    publisher.close()
    assert code == 0


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(stream=STREAM)
def test_random_bad_frames_never_crash_the_hub_nor_cost_a_valid_message(
    running: tuple, stream: list
) -> None:
    """Every valid message is delivered in order, every bad one counted; the hub stays up."""
    hub, publisher, out, totals = running
    for is_valid_first, bad, body in stream:
        n = totals["valid"]
        valid = [TOPIC.encode(), envelope_bytes(n, body)]
        for frames in [valid, bad] if is_valid_first else [bad, valid]:
            publisher.send_raw(frames)
        totals["valid"] += 1
        totals["bad"] += 1
    want_valid, want_bad = totals["valid"], totals["bad"]

    def settled() -> bool:
        errors = sum(hub.status()["hub"]["decode_errors"].values())
        return errors >= want_bad and len(read_records(out)) >= want_valid

    wait_until(settled, 30, f"{want_valid} delivered and {want_bad} counted")
    assert sum(hub.status()["hub"]["decode_errors"].values()) == want_bad
    ids = [r["msg_id"] for r in read_records(out)]
    assert ids == [f"fuzz-{n}" for n in range(want_valid)]
    assert hub.proc is not None and hub.proc.poll() is None
