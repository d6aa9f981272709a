"""The ``crypto`` section's checks across its keys, and what it means for fedmsg consumers.

Runs on the main thread at start-up (and on the reactor at reload), inside `hub.config.load`,
after the builder checked each key. ``validate_signatures`` needs ``ca_cert_location``;
``sign_messages`` needs ``certname``. While the hub validates signatures, fedmsg consumers are
told not to (``validate_signatures: False`` in the ``fedmsg`` section they read): the hub
checked every message once, before routing it, so none reaches them unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.config.schema import CryptoConfig
from hub.errors import ConfigError

Error = Callable[[tuple[str, ...], str], ConfigError]


def checked_crypto(crypto: CryptoConfig, fedmsg: dict[str, Any], error: Error) -> dict[str, Any]:
    """Raise for a ``crypto`` section missing a key its switches need; return the fedmsg
    section consumers get (``validate_signatures`` off when the hub validates)."""
    if crypto.validate_signatures and crypto.ca_cert_location is None:
        raise error(("crypto", "ca_cert_location"), "required with validate_signatures: true")
    if crypto.sign_messages and crypto.certname is None:
        raise error(("crypto", "certname"), "required with sign_messages: true (the hub signs "
                    "with <ssldir>/<certname>.crt and .key)")  # fmt: skip
    if crypto.validate_signatures and fedmsg:
        return {**fedmsg, "validate_signatures": False}
    return fedmsg
