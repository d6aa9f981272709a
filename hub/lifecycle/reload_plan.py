"""What a reload changes: the consumer diff, the settings only a restart applies, and what
a reload refuses. Pure functions of two configurations.

Runs on the reactor thread, inside `hub.lifecycle.reload`, before anything running is touched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

from hub.config import ConsumerConfig, CryptoConfig, CurveConfig, CurveSocketConfig, HubConfig
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
    """Top-level settings that differ but are applied only by a restart (``zmq``: apart from
    the CURVE keys allowed in, which a reload applies)."""
    old, new = _restart_part(old), _restart_part(new)
    return [
        f.name
        for f in dataclasses.fields(HubConfig)
        if f.name not in LIVE_FIELDS and getattr(old, f.name) != getattr(new, f.name)
    ]


def live_config(old: HubConfig, new: HubConfig) -> HubConfig:
    """The config now in force: the new consumers, log level, CURVE keys allowed in and (while
    signatures are checked) CA, CRL and routing policy; the old everything else."""
    both = old.crypto.validate_signatures and new.crypto.validate_signatures
    return dataclasses.replace(
        old,
        consumers=new.consumers,
        log_level=new.log_level,
        source=new.source,
        zmq=dataclasses.replace(old.zmq, curve=_allowed_from(old.zmq.curve, new.zmq.curve)),
        crypto=dataclasses.replace(old.crypto, **_checking(new.crypto)) if both else old.crypto,
    )


def _restart_part(config: HubConfig) -> HubConfig:
    """``config`` without what a reload applies: inside ``zmq`` the keys allowed in, inside
    ``crypto`` (while signatures are checked) the CA, CRL and routing policy."""
    curve = config.zmq.curve
    blank = CurveConfig(sub=_allowing(curve.sub, ()), pub=_allowing(curve.pub, ()))
    crypto = config.crypto
    if crypto.validate_signatures:
        crypto = dataclasses.replace(crypto, **_checking(CryptoConfig(validate_signatures=True)))
    zmq = dataclasses.replace(config.zmq, curve=blank)
    return dataclasses.replace(config, zmq=zmq, crypto=crypto)


def _checking(crypto: CryptoConfig) -> dict[str, Any]:
    """The keys of ``crypto`` a reload applies while signatures are checked."""
    return {k: getattr(crypto, k) for k in ("ca_cert_location", "crl_location",
            "crl_cache_expiry", "routing_policy", "routing_nitpicky")}  # fmt: skip


def _allowed_from(old: CurveConfig, new: CurveConfig) -> CurveConfig:
    """``old``'s sockets with ``new``'s ``allow`` lists where ``new`` has the socket too."""
    return CurveConfig(
        sub=_allowing(old.sub, new.sub.allow if new.sub else None),
        pub=_allowing(old.pub, new.pub.allow if new.pub else None),
    )


def _allowing(
    socket: CurveSocketConfig | None, allow: tuple[str, ...] | None
) -> CurveSocketConfig | None:
    if socket is None or allow is None:
        return socket
    return dataclasses.replace(socket, allow=allow)


def refuse_unreloadable(old: HubConfig, new: HubConfig, diff: ConsumerDiff) -> None:
    """Changes a reload cannot make (the whole reload is refused, naming them): a consumer
    switching ``source`` (its backlog would stay behind in the log or on the broker), and an
    AMQP consumer changing ``ordered`` (the queue's arguments: the broker refuses to redeclare
    it; delete the queue or rename the consumer)."""
    before, after = old.enabled_consumers, new.enabled_consumers
    refused = [f"consumer {n}: source {before[n].source} -> {after[n].source}"
               for n in diff.changed if before[n].source != after[n].source]  # fmt: skip
    refused += [f"consumer {n}: ordered {before[n].ordered} -> {after[n].ordered} (an AMQP "
                "queue's arguments cannot change; delete the queue or rename the consumer)"
                for n in diff.changed if after[n].source == "amqp"
                and before[n].ordered != after[n].ordered]  # fmt: skip
    if refused:
        raise ConfigError("; ".join(refused) + ": restart the hub for these changes")
