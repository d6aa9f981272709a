"""hub.plugins.moksha: moksha's blocking path, in order, with the hub's outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from hub import Drop, Message
from hub.plugins.moksha import MokshaConsumer


class Scripted:
    """A moksha consumer's methods, recording their calls; ``fail`` names the one that raises."""

    def __init__(self, fail: str = "") -> None:
        self.fail = fail
        self.calls: list[tuple[str, Any]] = []

    def _step(self, name: str, msg: dict[str, Any]) -> None:
        self.calls.append((name, msg["body"].get("headers")))
        if name == self.fail:
            raise RuntimeWarning(f"{name} says no")

    def validate(self, msg: dict[str, Any]) -> None:
        self._step("validate", msg)

    def pre_consume(self, msg: dict[str, Any]) -> None:
        self._step("pre_consume", msg)

    def consume(self, msg: dict[str, Any]) -> None:
        self._step("consume", msg)
        msg["body"]["msg"]["changed"] = True  # consumers mutate what they get

    def post_consume(self, msg: dict[str, Any]) -> None:
        self._step("post_consume", msg)

    def stop(self) -> None:
        self.calls.append(("stop", None))


MESSAGE = Message("org.x", {"topic": "org.x", "msg": {"n": 1}, "headers": {"h": 1}})


def adapter(target: Scripted) -> MokshaConsumer:
    return MokshaConsumer("m", {}, None, target=target, fedmsg=True)  # type: ignore[arg-type]


def test_the_blocking_path_runs_in_order_with_headers_in_the_body_on_a_copy() -> None:
    """validate, pre_consume, consume, post_consume, each seeing the envelope (headers
    included) as the body; the shared Message is left unchanged."""
    target = Scripted()
    adapter(target).consume(MESSAGE)
    assert target.calls == [("validate", {"h": 1}), ("pre_consume", {"h": 1}),
                            ("consume", {"h": 1}), ("post_consume", {"h": 1})]  # fmt: skip
    assert MESSAGE.body == {"n": 1} and target.headcount_in == 1  # type: ignore[attr-defined]


def test_invalid_is_dropped_a_failing_consume_raises_and_post_consume_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """validate refusing: Drop; consume raising: the error reaches the hub's retries, after
    post_consume; pre_consume raising: logged with topic and msg_id, consume still runs."""
    with pytest.raises(Drop, match="validate\\(\\) refused it"):
        adapter(Scripted("validate")).consume(MESSAGE)
    failing = Scripted("consume")
    with pytest.raises(RuntimeWarning, match="consume says no"):
        adapter(failing).consume(MESSAGE)
    assert failing.calls[-1][0] == "post_consume"
    noisy = Scripted("pre_consume")
    adapter(noisy).consume(MESSAGE)
    assert [c[0] for c in noisy.calls][-2:] == ["consume", "post_consume"]
    assert "pre_consume() failed on org.x (msg_id -)" in caplog.text


def test_a_fedmsg_consumer_fed_from_amqp_gets_the_envelope_fedmsg_would_have_sent() -> None:
    """An AMQP delivery (fedora-messaging's format) reaches consume() as {"topic", "body"} with
    the body holding topic, msg, msg_id, timestamp and headers, as from the fedmsg bus."""
    import datetime as dt

    from hub.transports.amqp.wire import decode, encode

    sent = encode("org.x.y", {"n": 1}, sent_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    message = decode(sent.routing_key, sent.properties, sent.body, 1 << 20, 0.0)
    seen: list[dict[str, Any]] = []
    target = Scripted()
    target.consume = seen.append  # type: ignore[method-assign]
    adapter(target).consume(message)
    (msg,) = seen
    assert msg["topic"] == "org.x.y" and msg["body"]["msg"] == {"n": 1}
    assert msg["body"]["msg_id"] == sent.properties.message_id
    assert msg["body"]["timestamp"] == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC).timestamp()
    assert msg["body"]["headers"]["fedora_messaging_schema"] == "base.message"
