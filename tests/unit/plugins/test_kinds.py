"""hub.plugins.kinds and the loader: each kind of consumer is told from its class, and loads."""

from __future__ import annotations

from typing import Any

import pytest

from consumers.log import LogConsumer
from hub.config import ConsumerConfig
from hub.errors import PluginLoadError
from hub.plugins.kinds import Kind, kind_of
from hub.plugins.loader import load_consumer, load_consumers
from tests.peers import fedmsg_badges, fm_callbacks

FEDMSG = {"hubtest.badges.enabled": True, "validate_signatures": False}


class Hub:
    outputs = frozenset({"zmq"})

    def publish(self, topic: str, body: Any) -> None: ...

    def forward(self, message: Any, to: str) -> None: ...


@pytest.mark.parametrize(("target", "kind"), [
    (LogConsumer, Kind.HUB),
    (fedmsg_badges.BadgeAwarder, Kind.FEDMSG),
    (fedmsg_badges.Counter, Kind.MOKSHA),
    (fm_callbacks.Recorder, Kind.CALLBACK),
    (fm_callbacks.troubled, Kind.CALLBACK),
])  # fmt: skip
def test_each_kind_is_detected_from_the_object(target: Any, kind: Kind) -> None:
    """hub.Consumer, FedmsgConsumer, moksha Consumer, a callable class, a function."""
    assert kind_of("c", target) is kind


def test_a_fedmsg_class_loads_with_its_topics_as_globs_and_says_how_it_was_found() -> None:
    """topic prefixes become globs (a bare prefix gains *); kind and found are recorded."""
    config = ConsumerConfig(cls="tests.peers.fedmsg_badges:BadgeAwarder")
    loaded = load_consumer("b", config, Hub(), FEDMSG)  # type: ignore[arg-type]
    assert loaded.kind is Kind.FEDMSG and loaded.found == "tests.peers.fedmsg_badges:BadgeAwarder"
    assert loaded.topics == ("org.fedoraproject.prod.bodhi.*", "org.fedoraproject.prod.fas.*")
    assert loaded.instance.target.hub.config["moksha.blocking_mode"] is True


def test_a_fedmsg_consumer_whose_config_key_is_off_is_refused_naming_the_key() -> None:
    """fedmsg-hub skipped it silently; the hub refuses to load it and says which key."""
    config = ConsumerConfig(cls="tests.peers.fedmsg_badges:Disabled")
    with pytest.raises(PluginLoadError, match=r"config_key 'hubtest\.disabled\.enabled'"):
        load_consumer("d", config, Hub(), FEDMSG)  # type: ignore[arg-type]


def test_a_callback_needs_topics_and_callbacks_share_one_consumer_config() -> None:
    """No topics: refused; two callbacks with different config: refused, naming both."""
    with pytest.raises(PluginLoadError, match="has no topics"):
        load_consumer("f", ConsumerConfig(cls="tests.peers.fm_callbacks:troubled"), Hub())  # type: ignore[arg-type]
    two = {n: ConsumerConfig(cls="tests.peers.fm_callbacks:troubled", topics=("*",),
                             config={"path": n}) for n in ("a", "b")}  # fmt: skip
    with pytest.raises(PluginLoadError, match="consumers a, b: fedora-messaging callbacks"):
        load_consumers(two, Hub())  # type: ignore[arg-type]
