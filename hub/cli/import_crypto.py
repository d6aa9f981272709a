"""``import-config`` of fedmsg's ``fedmsg.crypto`` keys (``fedmsg.d/ssl.py``): the hub's
``crypto:`` section, under the same names.

Runs on the CLI's main thread (`hub.cli.import_fedmsg`). ``validate_signatures``,
``routing_policy``, ``routing_nitpicky``, ``crl_cache_expiry`` and ``ssldir`` carry over as
they are. The CA and CRL must be local files for the hub: an ``https://`` location (fedmsg
downloaded it) becomes fedmsg's own default path, and a comment says to download it there (and
again on a timer). ``sign_messages`` needs the one certificate the hub signs with: fedmsg chose
it per process from ``certnames``; with one entry it is carried, with more the comment lists
them to choose from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.cli.import_draft import Draft

AS_IS = ("validate_signatures", "routing_policy", "routing_nitpicky", "crl_cache_expiry")
LOCAL = {"ca_cert_location": "/etc/pki/fedmsg/ca.crt", "crl_location": "/etc/pki/fedmsg/crl.pem"}


def add_crypto(config: Mapping[str, Any], draft: Draft) -> None:
    """The ``crypto`` section for fedmsg's signature keys, when signatures were on."""
    validate, sign = bool(config.get("validate_signatures")), bool(config.get("sign_messages"))
    if not validate and not sign:
        return
    section: dict[str, Any] = {k: config[k] for k in AS_IS if k in config and validate}
    if validate:
        section.update(_locations(config, draft))
    section["ssldir"] = str(config.get("ssldir", "/etc/pki/fedmsg"))
    if sign:
        section.update(_signing(config, draft))
    draft.top["crypto"] = section
    draft.note("crypto", "fedmsg.crypto's keys: the hub checks each message's signature once, "
               "before routing it (fedmsg consumers are told not to again), and signs what "
               "hub.publish() sends (docs/security.md).")  # fmt: skip


def _locations(config: Mapping[str, Any], draft: Draft) -> dict[str, str]:
    """The CA and CRL as local paths; an https one replaced by fedmsg's default path."""
    found: dict[str, str] = {}
    for key, default in LOCAL.items():
        location = config.get(key)
        if location is None:
            continue
        location = str(location)
        if "://" in location:
            draft.note("crypto", f"{key}: fedmsg downloaded {location}; the hub reads a local "
                       f"file: download it to {default}, and again on a timer (the hub reads it "
                       "again every crl_cache_expiry seconds).")  # fmt: skip
            location = default
        found[key] = location
    return found


def _signing(config: Mapping[str, Any], draft: Draft) -> dict[str, Any]:
    certnames = config.get("certnames") or {}
    names = sorted({str(v) for v in certnames.values()}) if isinstance(certnames, dict) else []
    if len(names) == 1:
        return {"sign_messages": True, "certname": names[0]}
    draft.not_carried.append(
        "sign_messages True: the hub signs with one certificate; set crypto.sign_messages: true "
        "and crypto.certname to one of certnames' values"
        + (f" ({', '.join(names)})." if names else " (certnames is empty).")
    )
    return {}
