"""``import-config`` of a ``fedmsg.d/`` directory: endpoints, publish endpoint, ``fedmsg:``.

Runs on the CLI's main thread. The directory is read the way fedmsg reads it
(``fedmsg.config.load_config``), by the reader the hub's ``fedmsg: {config_dir}`` uses
(`hub.config.fedmsg`): every ``*.py`` file, in sorted order, is executed and its module-level
``config`` dict merged into the result, dicts of dicts recursively, later files winning. The
files are Python: executing them is what fedmsg-hub did too. fedmsg itself is not imported.
The consumers (``moksha.consumer`` entry points whose ``config_key`` is on) come from
`hub.cli.import_moksha`, the ``crypto`` section (fedmsg's signature keys) from
`hub.cli.import_crypto`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.cli.import_crypto import add_crypto
from hub.cli.import_draft import Draft, unique
from hub.cli.import_moksha import add_consumers
from hub.config.fedmsg import read_fedmsg_dir as read_dir
from hub.errors import ConfigError

# fedmsg keys whose behaviour the hub does not carry over, and why (present keys are listed).
NOT_CARRIED = {
    "status_directory": "fedmsg's backlog recovery; the hub's durable log replaces it "
    "(a consumer's backlog waits on disk across restarts, docs/reliability.md)",
    "datagrepper_url": "fedmsg's backlog recovery from datagrepper; the hub's durable log "
    "replaces it",
    "skip_last_message": "part of fedmsg's backlog recovery, which the durable log replaces",
    "replay_endpoints": "fedmsg's replay of missed messages; the hub's durable log replaces it",
    "moksha.threadpool_size": "each consumer has its own threads (threads:)",
    "moksha.monitoring.socket": "the hub's status endpoint is status: (host, port)",
    "high_water_mark": "ZeroMQ socket options are under zmq: (rcvhwm, sndhwm)",
    "io_threads": "ZeroMQ socket options are under zmq:",
    "post_init_sleep": "the hub waits for subscriptions with a handshake, not a sleep",
}
# Used by fedmsg consumers through self.hub.config: kept in the fedmsg: section.
FOR_CONSUMERS = ("environment", "topic_prefix", "active")
CARRIED_ZMQ = ("zmq_enabled", "zmq_publish_endpoints", "zmq_strict")


def read_fedmsg_dir(directory: Path) -> tuple[dict[str, Any], list[Path]]:
    """The merged ``config`` of every ``*.py`` file in ``directory`` and the files, in order:
    what the hub's ``fedmsg: {config_dir}`` reads (`hub.config.fedmsg`), without its defaults."""
    files = sorted(directory.glob("*.py"))  # the order hub.config.fedmsg reads them in
    return read_dir(directory, lambda _key, text: ConfigError(text)), files


def draft_from_fedmsg(directory: Path) -> Draft:
    """The hub configuration equivalent to what fedmsg-hub ran from ``directory``."""
    directory = directory.resolve()
    config, files = read_fedmsg_dir(directory)
    draft = Draft(source=f"the fedmsg.d directory {directory}")
    draft.header.append("Files read, in order: " + (", ".join(p.name for p in files) or "none"))
    _endpoints(config, draft)
    _publish_endpoint(config, draft)
    draft.top["fedmsg"] = {"config_dir": str(directory)}
    draft.note(
        "fedmsg",
        "What fedmsg/moksha consumers get as self.hub.config: this directory, "
        "read as fedmsg reads it." + _kept_keys(config),
    )
    add_consumers(config, draft)
    add_crypto(config, draft)
    _not_carried(config, draft)
    return draft


def _kept_keys(config: Mapping[str, Any]) -> str:
    kept = [f"{k}={config[k]!r}" for k in FOR_CONSUMERS if k in config]
    return f"\nIt keeps {', '.join(kept)} for them." if kept else ""


def _endpoints(config: Mapping[str, Any], draft: Draft) -> None:
    """Every URL of fedmsg's ``endpoints`` (name -> URL or list), as fedmsg-hub subscribed."""
    named = config.get("endpoints", {})
    if not isinstance(named, dict):
        raise ConfigError(f"{draft.source}: endpoints: expected a dict of name -> URLs")
    urls: list[str] = []
    for value in named.values():
        urls += [value] if isinstance(value, str) else [str(v) for v in value]
    wildcard = [u for u in urls if u.startswith("tcp://*:")]
    urls = unique([u.replace("tcp://*:", "tcp://127.0.0.1:", 1) for u in urls])
    if not urls:
        draft.header.append("fedmsg.d names no endpoints: add the ones to subscribe to.")
        return
    draft.top["endpoints"] = urls
    draft.note(
        "endpoints",
        f"fedmsg-hub connected to every URL of fedmsg's endpoints ({', '.join(named)}).",
    )
    if wildcard:
        draft.note(
            "endpoints", f"{', '.join(wildcard)}: a bind address; connected to on 127.0.0.1 here."
        )
    if config.get("zmq_enabled", True) is False:
        draft.note("endpoints", "zmq_enabled is False: moksha used another transport; check.")


def _publish_endpoint(config: Mapping[str, Any], draft: Draft) -> None:
    """moksha's PUB socket (``zmq_publish_endpoints``), else an active relay_inbound."""
    published = [e.strip() for e in str(config.get("zmq_publish_endpoints", "")).split(",")]
    published = [e for e in published if e]
    relay = config.get("relay_inbound")
    relay = relay[0] if isinstance(relay, list | tuple) and relay else relay
    if published:
        draft.top["publish_endpoint"] = "bind:" + published[0]
        draft.note("publish_endpoint", "moksha's zmq_publish_endpoints, bound.")
        if len(published) > 1:
            draft.note(
                "publish_endpoint",
                f"Not bound: {', '.join(published[1:])} (one PUB socket endpoint).",
            )
    elif relay and config.get("active"):
        draft.top["publish_endpoint"] = str(relay)
        draft.note(
            "publish_endpoint",
            "fedmsg's relay_inbound (active: True): hub.publish() "
            "connects to the relay, as fedmsg.publish() did.",
        )
        return
    if relay:
        draft.not_carried.append(
            f"relay_inbound {relay!r}: the relay fedmsg-logger (and fedmsg.publish() with "
            f"active: True) sent to; `consumer-hub publish --endpoint {relay}` sends there."
        )


def _not_carried(config: Mapping[str, Any], draft: Draft) -> None:
    if "validate_signatures" not in config:
        draft.not_carried.append(
            "validate_signatures is not set: fedmsg consumers read it from self.hub.config and "
            "fedmsg-hub had no default (a consumer not setting it failed to start); set it in "
            "fedmsg.d (False), or set crypto.validate_signatures: true here to have the hub "
            "check them (docs/security.md)."
        )
    for key, why in NOT_CARRIED.items():
        if key in config:
            draft.not_carried.append(f"{key} {config[key]!r}: {why}.")
    socket_keys = sorted(k for k in config if k.startswith("zmq_") and k not in CARRIED_ZMQ)
    if socket_keys:
        draft.not_carried.append(
            f"{', '.join(socket_keys)}: moksha's ZeroMQ options; the "
            "hub's are under zmq: (docs/configuration.md)."
        )
