"""hub.plugins.callback and hub.plugins.schemas, with the real fedora-messaging and real schema
packages (bodhi-messages): the schema object a callback gets, and what its exceptions become."""

from __future__ import annotations

from typing import Any

import pytest
from fedora_messaging import exceptions as fm_exceptions
from fedora_messaging import message as fm

from hub import Drop, Halt, Message, Retry
from hub.data import load_samples
from hub.plugins.callback import CallbackConsumer
from hub.transports.amqp.wire import decode


def sample(topic: str) -> Message:
    """The first real fedmsg envelope on ``topic``, as the ZeroMQ input would decode it."""
    for envelope in load_samples():  # the 401 real envelopes the package ships
        if envelope["topic"] == topic:
            return Message(topic, envelope)
    raise LookupError(topic)


def callback(call: Any, config: dict[str, Any] | None = None) -> CallbackConsumer:
    consumer = CallbackConsumer("cb", config or {}, None, target=call)  # type: ignore[arg-type]
    consumer.setup()
    return consumer


def test_a_fedmsg_message_gets_its_schema_class_by_topic_with_summary_and_usernames() -> None:
    """A real bodhi comment from ZeroMQ (no schema header): bodhi-messages' class, and the
    summary, usernames, packages and agent that class computes; the id is the msg_id."""
    got: list[Any] = []
    message = sample("org.fedoraproject.prod.bodhi.update.comment")
    callback(got.append).consume(message)
    (built,) = got
    assert type(built).__name__ == "UpdateCommentV1" and built.id == message.msg_id
    assert built.summary == "kalev commented on update xdg-desktop-portal-1.4.2-1.fc30 (karma: 0)"
    assert (built.usernames, built.packages, built.agent_name) == (
        ["kalev"], ["xdg-desktop-portal"], "kalev")  # fmt: skip


def test_an_amqp_message_gets_the_class_its_header_names_and_unknown_ones_the_base() -> None:
    """fedora_messaging_schema picks the class; a schema not installed: the base Message,
    counted schema_unknown."""
    cls = fm.get_class("bodhi.compose.complete.v1")
    body = {"agent": "releng", "ctype": "rpm", "repo": "f40-updates", "success": True}
    theirs = cls(topic="org.fedoraproject.prod.bodhi.compose.complete", body=body)
    got: list[Any] = []
    consumer = callback(got.append)
    delivery = (theirs._encoded_routing_key, theirs._properties, theirs._encoded_body)
    consumer.consume(decode(*delivery, 1 << 20, 0.0))
    theirs._properties.headers["fedora_messaging_schema"] = "nobody.installed.this"
    consumer.consume(decode(*delivery, 1 << 20, 0.0))
    assert [type(m).__name__ for m in got] == [cls.__name__, "Message"]
    assert got[0].id == theirs.id and consumer.figures()["schema_unknown"] == 1


def test_a_body_that_fails_its_schema_is_dropped_and_counted() -> None:
    """A real 2015 bodhi.update.edit that today's schema refuses: hub.Drop naming the schema,
    counted schema_invalid; the callback never sees it."""
    consumer = callback(lambda m: pytest.fail("called"))
    with pytest.raises(Drop, match=r"fails schema bodhi\.update\.edit"):
        consumer.consume(sample("org.fedoraproject.dev.bodhi.update.edit"))
    assert consumer.figures()["schema_invalid"] == 1


@pytest.mark.parametrize(("raised", "outcome", "requeue"), [
    (fm_exceptions.Nack(), Retry, None),
    (fm_exceptions.Drop(), Drop, None),
    (fm_exceptions.HaltConsumer(exit_code=3, reason="enough"), Halt, False),
    (fm_exceptions.HaltConsumer(requeue=True), Halt, True),
])  # fmt: skip
def test_fedora_messagings_exceptions_become_the_hubs_outcomes(
    raised: Exception, outcome: type[Exception], requeue: bool | None
) -> None:
    """Nack -> Retry, Drop -> Drop, HaltConsumer -> Halt keeping its requeue (False: the
    message is finished before the consumer stops)."""

    def call(message: Any) -> None:
        raise raised

    with pytest.raises(outcome) as caught:
        callback(call).consume(sample("org.fedoraproject.prod.bodhi.compose.complete"))
    if requeue is not None:
        assert caught.value.requeue is requeue  # type: ignore[attr-defined]


def test_a_callback_class_is_instantiated_once_in_setup_with_consumer_config() -> None:
    """The class is built once, after consumer_config is the consumer's config:."""
    from fedora_messaging import config as fm_config

    class Once:
        built = 0

        def __init__(self) -> None:
            Once.built += 1
            self.path = fm_config.conf["consumer_config"]["path"]

        def __call__(self, message: Any) -> None: ...

    consumer = callback(Once, {"path": "/x"})
    consumer.consume(sample("org.fedoraproject.prod.bodhi.compose.complete"))
    consumer.consume(sample("org.fedoraproject.prod.bodhi.compose.complete"))
    assert Once.built == 1 and consumer.call.path == "/x"
