"""Stand-ins for fedmsg/moksha consumer classes, registered by the tests as ``moksha.consumer``
entry points (tests/unit/cli/test_import_config.py). Only their class attributes are read."""

from __future__ import annotations


class BodhiConsumer:
    """On in the fixture fedmsg.d (``test.bodhi.enabled``); a fedmsg-style prefix topic."""

    config_key = "test.bodhi.enabled"
    topic = "org.fedoraproject.prod.bodhi.*"


class OffConsumer:
    """Off in the fixture fedmsg.d (``test.off.enabled: False``)."""

    config_key = "test.off.enabled"
    topic = ""


class ManyTopics:
    """A list of topics in every form moksha accepts (on by ``test.many.enabled``)."""

    config_key = "test.many.enabled"
    topic = ["", "org.a", "org.b.*", "org.fedoraproject.*.buildsys.tag", "org.c?d"]


class NoConfigKey:
    """A plain moksha consumer: no config_key."""

    topic = "*"
