"""hub.plugins.loader: entry points and module:Class, with one clear error per failure."""

from __future__ import annotations

import pytest

from consumers.log import LogConsumer
from hub.config import ConsumerConfig
from hub.errors import PluginLoadError
from hub.plugins.loader import load_consumer


def test_entry_point_name_resolves_to_the_class() -> None:
    """`class: log` finds the installed entry point consumers.log:LogConsumer."""
    loaded = load_consumer("x", ConsumerConfig(cls="log"), hub=None)  # type: ignore[arg-type]
    assert isinstance(loaded.instance, LogConsumer)
    assert loaded.topics == ("*",) and loaded.instance.name == "x"


def test_config_topics_override_the_class_topics() -> None:
    """The consumer's `topics` key replaces the class attribute."""
    config = ConsumerConfig(cls="consumers.log:LogConsumer", topics=("a.*",))
    assert load_consumer("x", config, hub=None).topics == ("a.*",)  # type: ignore[arg-type]


def test_a_string_instead_of_a_topic_list_is_refused() -> None:
    """topics = "a.*" (a common slip) is an error naming the consumer."""
    with pytest.raises(PluginLoadError, match="consumer 'x': topics must be a list"):
        load_consumer("x", ConsumerConfig(cls="tests.plugins:StringTopics"), hub=None)  # type: ignore[arg-type]


def test_a_class_without_consume_is_refused() -> None:
    """A class with no consume() (and no __call__: not a callback either) stops start-up with
    the consumer's name and the kinds it could have been."""
    with pytest.raises(
        PluginLoadError, match=r"'x': class NotAConsumer is neither a hub\.Consumer"
    ):
        load_consumer("x", ConsumerConfig(cls="tests.plugins:NotAConsumer"), hub=None)  # type: ignore[arg-type]
