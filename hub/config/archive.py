"""Which consumers are archive consumers, and the checks of ``status.archive_raw``.

Runs on the main thread at start-up (and on the reactor at reload), after `hub.config.validate`
built the dataclasses; pure. ``status.archive_raw`` names the archive consumer whose database
``/archive/raw`` serves (null: no such page). It must be an enabled archive consumer, and the
status endpoint must listen on a loopback address only: the page answers loopback clients alone
(`hub.observe.archive_raw`), and a config that exposes the port elsewhere is refused rather
than served with every remote request refused.
"""

from __future__ import annotations

import ipaddress

from hub.config.schema import HubConfig
from hub.config.transports import Error

# how ``class:`` names the built-in archive consumer (the entry point, or module:Class)
ARCHIVE_CLASSES = frozenset({"archive", "consumers.archive:Archive"})
LOOPBACK_NAMES = frozenset({"localhost"})


def archive_consumers(config: HubConfig) -> list[str]:
    """The names of the enabled archive consumers, in config order."""
    return [name for name, consumer in config.consumers.items()
            if consumer.enabled and consumer.cls in ARCHIVE_CLASSES]  # fmt: skip


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ``::1``."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def check_archive_raw(config: HubConfig, error: Error) -> None:
    """Raise the `ConfigError` ``error`` builds when ``status.archive_raw`` is set wrongly."""
    name = config.status.archive_raw
    if name is None:
        return
    path = ("status", "archive_raw")
    valid = archive_consumers(config)
    if name not in valid:
        have = f"archive consumers: {', '.join(valid)}" if valid else "no archive consumer"
        raise error(path, f"{name!r} is not an enabled archive consumer (class: archive); the "
                    f"config has {have}; or null for no /archive/raw")  # fmt: skip
    host = config.status.host
    if not is_loopback(host):
        raise error(path, "/archive/raw answers loopback clients only: status.host must be a "
                    f"loopback address (127.0.0.1, ::1, localhost), not {host!r}")  # fmt: skip
