"""What a reload changes: the consumer diff, the settings only a restart applies, and what
a reload refuses. Pure functions of two configurations.

Runs on the reactor thread, inside `hub.lifecycle.reload`, before anything running is touched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import NamedTuple

from hub.config import ConsumerConfig, HubConfig
from hub.errors import ConfigError

LIVE_FIELDS = frozenset({"consumers", "log_level", "source"})


class ConsumerDiff(NamedTuple):
    """Consumer names by what a reload does to them (each sorted)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]


def diff_consumers(
    old: Mapping[str, ConsumerConfig], new: Mapping[str, ConsumerConfig]
) -> ConsumerDiff:
    """Compare two sets of enabled consumers by name and full config."""
    both = old.keys() & new.keys()
    return ConsumerDiff(
        added=tuple(sorted(new.keys() - old.keys())),
        removed=tuple(sorted(old.keys() - new.keys())),
        changed=tuple(sorted(n for n in both if old[n] != new[n])),
        unchanged=tuple(sorted(n for n in both if old[n] == new[n])),
    )


def restart_only_changes(old: HubConfig, new: HubConfig) -> list[str]:
    """Top-level settings that differ but are applied only by a restart."""
    return [
        f.name
        for f in dataclasses.fields(HubConfig)
        if f.name not in LIVE_FIELDS and getattr(old, f.name) != getattr(new, f.name)
    ]


def live_config(old: HubConfig, new: HubConfig) -> HubConfig:
    """The config now in force: the new consumers and log level, the old everything else."""
    return dataclasses.replace(
        old, consumers=new.consumers, log_level=new.log_level, source=new.source
    )


def refuse_amqp_changes(old: HubConfig, new: HubConfig, diff: ConsumerDiff) -> None:
    """AMQP consumers' queues are declared on the connection at start-up: adding, removing or
    changing one needs a restart (the whole reload is refused, naming them)."""
    both = {**old.enabled_consumers, **new.enabled_consumers}
    touched = (*diff.added, *diff.removed, *diff.changed)
    amqp = sorted(n for n in touched if both[n].source == "amqp"
                  or old.enabled_consumers.get(n, both[n]).source == "amqp")  # fmt: skip
    if amqp:
        raise ConfigError(f"consumers {', '.join(amqp)}: AMQP consumers change only with a "
                          "restart (systemctl restart)")  # fmt: skip
