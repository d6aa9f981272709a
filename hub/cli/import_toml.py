"""``import-config`` of a fedora-messaging TOML file: the ``amqp:`` section and its consumers.

Runs on the CLI's main thread. The keys and their defaults are fedora-messaging's
(``fedora_messaging.config``; the package is not imported). ``amqp_url``, ``publish_exchange``,
``[tls]`` and ``[qos] prefetch_count`` become ``amqp:``; `hub.cli.import_queues` turns each
queue that ``fedora-messaging consume`` would have consumed into a consumer with ``source:
amqp``, ``class:`` the ``callback`` and ``config:`` the ``[consumer_config]`` table. The rest is
commented.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.cli.import_draft import Draft
from hub.cli.import_queues import add_consumers
from hub.errors import ConfigError

DEFAULT_URL = "amqp://?connection_attempts=3&retry_delay=5"  # fedora-messaging's
DEFAULT_PREFETCH = 10
CARRIED = {
    "amqp_url",
    "publish_exchange",
    "tls",
    "qos",
    "queues",
    "bindings",
    "callback",
    "consumer_config",
    "exchanges",
}
NOT_CARRIED = {
    "topic_prefix": "what the hub publishes has the topic the consumer gives; add the prefix there",
    "client_properties": "the hub names itself to the broker (consumer-hub and its version)",
    "passive_declares": "the hub declares its consumers' queues and dead-letter queues itself",
    "log_config": "the hub logs to stderr or the journal; its level is log_level:",
    "monitoring": "the hub's HTTP status endpoint is status: (host, port; /live, /ready, /metrics)",
    "publish_priority": "hub.publish() sends without a priority",
}


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document at ``path``; `ConfigError` when it cannot be read or parsed."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def draft_from_toml(path: Path) -> Draft:
    """The hub configuration equivalent to ``fedora-messaging consume`` with ``path``."""
    path = path.resolve()
    data = read_toml(path)
    draft = Draft(source=f"the fedora-messaging configuration {path}")
    amqp = _amqp(path, data, draft)
    draft.top["amqp"] = amqp
    amqp.update(add_consumers(path, data, draft, amqp["exchange"]))
    if "tls" in amqp:
        amqp["tls"] = amqp.pop("tls")  # last, as in docs/amqp.md
    _exchanges(data, draft)
    for key, why in NOT_CARRIED.items():
        if key in data and data[key] not in ("", {}, None, False):
            draft.not_carried.append(f"{key} {_short(data[key])}: {why}.")
    for key in sorted(set(data) - CARRIED - set(NOT_CARRIED)):
        draft.not_carried.append(f"{key}: not a fedora-messaging key.")
    return draft


def _amqp(path: Path, data: Mapping[str, Any], draft: Draft) -> dict[str, Any]:
    url = _typed(path, data, "amqp_url", str, DEFAULT_URL)
    amqp: dict[str, Any] = {"url": url}
    if "amqp_url" not in data:
        draft.note("amqp", "amqp_url is not set: fedora-messaging's default URL.")
    amqp["exchange"] = _typed(path, data, "publish_exchange", str, "amq.topic")
    qos = _typed(path, data, "qos", dict, {})
    if "prefetch_count" in qos:
        amqp["prefetch"] = qos["prefetch_count"]
        draft.note(
            "amqp",
            "prefetch: [qos] prefetch_count, now per consumer (fedora-messaging's "
            "was per channel).",
        )
    else:
        draft.note(
            "amqp",
            f"[qos] prefetch_count unset (fedora-messaging's default "
            f"{DEFAULT_PREFETCH}): the hub's default is each consumer's window.",
        )
    if qos.get("prefetch_size"):
        draft.not_carried.append(
            f"[qos] prefetch_size {qos['prefetch_size']}: the hub limits by count (prefetch)."
        )
    tls = {k: v for k, v in _typed(path, data, "tls", dict, {}).items() if v}
    if tls and url.startswith("amqps://"):
        amqp["tls"] = {k: tls[k] for k in ("ca_cert", "certfile", "keyfile") if k in tls}
    elif tls:
        draft.not_carried.append(
            f"[tls] {_short(tls)}: fedora-messaging uses it with amqps:// "
            "URLs only, and this one is not."
        )
    return amqp


def _exchanges(data: Mapping[str, Any], draft: Draft) -> None:
    exchanges = data.get("exchanges", {})
    declared = sorted(exchanges) if isinstance(exchanges, dict) else []
    if [name for name in declared if name != "amq.topic"]:
        draft.not_carried.append(
            f"[exchanges] {', '.join(declared)}: the hub declares no "
            "exchange; amqp.exchange must exist."
        )


def _typed(path: Path, data: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = data.get(key, default)
    if not isinstance(value, kind):
        raise ConfigError(f"{path}: {key}: expected a {kind.__name__}, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
