"""Reading the configuration: ``hub.yaml`` plus ``hub.d/*.yaml`` drop-ins.

Runs on the main thread at start-up (and on reload). ``load_config(path)`` reads the main file,
then every ``*.yaml`` in the ``hub.d/`` directory beside it in name order, deep-merging mappings
(a drop-in can add a consumer or change one key of one), and builds a frozen `HubConfig`.
Every error names the file, the key path and what was expected (see `hub.config.validate`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from hub.config.archive import check_archive_raw
from hub.config.crypto import checked_crypto
from hub.config.fedmsg import resolve_fedmsg
from hub.config.schema import DEFAULT_STATE_DIR, HubConfig
from hub.config.transports import Error, resolve
from hub.config.validate import Builder
from hub.errors import ConfigError

DEFAULT_PATH = Path("/etc/consumer-hub/hub.yaml")


def default_state_dir(environ: Mapping[str, str]) -> str:
    """``state_dir`` when the configuration sets none: the first path of ``$STATE_DIRECTORY``
    (systemd's ``StateDirectory=``; colon-separated when the unit lists several), else
    `DEFAULT_STATE_DIR`."""
    first = environ.get("STATE_DIRECTORY", "").split(":")[0].strip()
    return first or DEFAULT_STATE_DIR


def load_config(
    path: Path | str = DEFAULT_PATH, environ: Mapping[str, str] | None = None
) -> HubConfig:
    """Read ``path`` and its ``hub.d/`` drop-ins; return the validated config or raise.
    ``environ`` (default ``os.environ``) supplies the default ``state_dir``."""
    path = Path(path)
    data, origins = _read(path)
    dropins = path.parent / "hub.d"
    files = [str(path)]
    if dropins.is_dir():
        for extra in sorted(dropins.glob("*.yaml")):
            more, _ = _read(extra)
            _merge(data, more, (), origins, str(extra))
            files.append(str(extra))
    data["__source__"] = ", ".join(files)
    origins[("__source__",)] = str(path)
    data.setdefault("state_dir", default_state_dir(os.environ if environ is None else environ))
    builder = Builder(origins, str(path))
    return _resolved(builder.build(HubConfig, data), builder.error)


def config_from_dict(data: dict[str, Any], source: str = "<dict>") -> HubConfig:
    """Build a config from an in-memory mapping (tests, embedded defaults)."""
    data = dict(data, __source__=source)
    builder = Builder({}, source)
    return _resolved(builder.build(HubConfig, data), builder.error)


def _resolved(config: HubConfig, error: Error) -> HubConfig:
    """The transports decided (`hub.config.transports`), ``status.archive_raw`` checked
    (`hub.config.archive`), the fedmsg section read, the crypto section checked
    (`hub.config.crypto`)."""
    config = resolve(config, error)
    check_archive_raw(config, error)
    fedmsg = resolve_fedmsg(config.fedmsg, error)
    return dataclasses.replace(config, fedmsg=checked_crypto(config.crypto, fedmsg, error))


def _read(path: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    try:
        data = _parse(text, path)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping, got {type(data).__name__}")
    origins: dict[tuple[str, ...], str] = {}
    _merge({}, data, (), origins, str(path))
    return data, origins


def _parse(text: str, path: Path) -> Any:
    """``yaml.safe_load``, refusing a key given twice in one mapping (PyYAML keeps the last)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_duplicates(node, (), path, set())
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_duplicates(node: yaml.Node, keys: tuple[str, ...], path: Path, seen: set[int]) -> None:
    """Raise `ConfigError` naming both lines when a mapping under ``node`` repeats a key."""
    if id(node) in seen:  # an alias of a node already checked
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicates(item, (*keys, str(i)), path, seen)
    if not isinstance(node, yaml.MappingNode):
        return
    lines: dict[tuple[str, str], int] = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            line, ident = key_node.start_mark.line + 1, (key_node.tag, key_node.value)
            if ident in lines:
                where = ".".join((*keys, key_node.value))
                at = f"lines {lines[ident]} and {line}" if lines[ident] != line else f"line {line}"
                raise ConfigError(f"{path}: {where}: key given twice, at {at} (YAML would keep "
                                  "only the last)")  # fmt: skip
            lines[ident] = line
        _check_duplicates(value_node, (*keys, str(getattr(key_node, "value", "?"))), path, seen)


def _merge(
    into: dict[str, Any],
    new: dict[str, Any],
    path: tuple[str, ...],
    origins: dict[tuple[str, ...], str],
    source: str,
) -> None:
    """Deep-merge ``new`` into ``into``, recording which file set each key path."""
    for key, value in new.items():
        key_path = (*path, str(key))
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, key_path, origins, source)
        else:
            into[key] = value
            _record(value, key_path, origins, source)


def _record(
    value: Any, path: tuple[str, ...], origins: dict[tuple[str, ...], str], src: str
) -> None:
    origins[path] = src
    if isinstance(value, dict):
        for key, inner in value.items():
            _record(inner, (*path, str(key)), origins, src)
