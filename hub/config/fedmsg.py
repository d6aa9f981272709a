"""The ``fedmsg:`` section: the fedmsg configuration fedmsg and moksha consumers get as
``self.hub.config``, resolved once at load.

Runs on the main thread at start-up (and on the reactor at reload), inside `hub.config.load`.
The section is a mapping: its keys inline, or ``config_dir:`` naming a ``fedmsg.d/`` directory
read the way fedmsg reads one (every ``*.py`` file, in sorted order, executed; its ``config``
dict merged into the result, dicts of dicts recursively, later files winning), the inline keys
merged over that. Underneath are fedmsg's own defaults when the fedmsg package is installed
(``fedmsg.config.defaults``), as fedmsg-hub had them. The files are Python and are executed, as
fedmsg executes them: only point ``config_dir`` at a directory you would let fedmsg-hub read.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hub.errors import ConfigError

Error = Callable[[tuple[str, ...], str], ConfigError]


def resolve_fedmsg(section: Mapping[str, Any], error: Error) -> dict[str, Any]:
    """The whole fedmsg config ``section`` describes (empty when there is no section)."""
    if not section:
        return {}
    config = fedmsg_defaults()
    directory = section.get("config_dir")
    if directory is not None:
        if not isinstance(directory, str) or not Path(directory).is_dir():
            raise error(("fedmsg", "config_dir"), f"{directory!r} is not a directory")
        config = merged(config, read_fedmsg_dir(Path(directory), error))
    inline = {k: v for k, v in section.items() if k != "config_dir"}
    return _finished(merged(config, copy.deepcopy(inline)))


def _finished(config: dict[str, Any]) -> dict[str, Any]:
    """What fedmsg's ``load_config`` adds last: endpoint lists, ``topic_prefix_re``."""
    endpoints = config.get("endpoints")
    if isinstance(endpoints, dict):
        config["endpoints"] = {k: [v] if isinstance(v, str) else list(v)
                               for k, v in endpoints.items()}  # fmt: skip
    prefix = config.get("topic_prefix")
    if "topic_prefix_re" not in config and isinstance(prefix, str):
        config["topic_prefix_re"] = prefix.replace(".", r"\.") + r"\.[^\W\d_]+"
    return config


def fedmsg_defaults() -> dict[str, Any]:
    """fedmsg's defaults (a copy), or {} when fedmsg is not installed."""
    try:
        from fedmsg.config import defaults  # type: ignore[import-not-found,unused-ignore]
    except Exception:
        return {}
    return copy.deepcopy(dict(defaults))


def read_fedmsg_dir(directory: Path, error: Error) -> dict[str, Any]:
    """Every ``*.py`` file of ``directory`` executed in sorted order, ``config`` merged."""
    config: dict[str, Any] = {}
    for path in sorted(directory.glob("*.py")):
        variables: dict[str, Any] = {"__file__": str(path)}
        try:
            code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
            exec(code, variables)  # what fedmsg does with its config files
        except Exception as exc:
            raise error(("fedmsg", "config_dir"), f"{path}: {type(exc).__name__}: {exc}") from None
        found = variables.get("config")
        if not isinstance(found, dict):
            raise error(("fedmsg", "config_dir"), f"{path}: defines no 'config' dict")
        config = merged(config, found)
    return config


def merged(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``over``, dicts of dicts merged recursively (fedmsg's way)."""
    for key, value in over.items():
        if isinstance(base.get(key), dict) and isinstance(value, dict):
            base[key] = merged(base[key], value)
        else:
            base[key] = value
    return base
