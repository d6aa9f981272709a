"""``consumer-hub keygen PATH``: a CURVE key pair for ``zmq.curve`` (the hub's, or a peer's).

Runs on the CLI's main thread; needs no hub configuration file. Writes ``PATH.key`` (the public
key, 0644: give it to the peers, or put it in the directory of keys the hub allows) and
``PATH.key_secret`` (the key pair, 0600 from the moment it exists: only its owner reads it),
in ZeroMQ's certificate format (what ``zmq.auth.load_certificate`` and czmq read). An existing
file is never overwritten (`ConfigError`, exit code 3): move the old pair away first, which is
also how a key is rolled (docs/security.md).
"""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path
from typing import Any

import zmq

from hub.errors import ConfigError

BANNER = "#   ZeroMQ CURVE {kind} certificate, made by consumer-hub keygen on {when}\n{note}\n"
PUBLIC_NOTE = "#   The public key: hand it to the peers that must know this one.\n"
SECRET_NOTE = "#   The SECRET key: never copy it elsewhere, nor make it readable to others.\n"


def add_parser(sub: Any) -> None:
    """Register the ``keygen`` sub-command."""
    parser = sub.add_parser("keygen", help="write a CURVE key pair (PATH.key, PATH.key_secret)")
    parser.add_argument("path", type=Path, help="where to write, without the suffix")


def write_key_pair(path: Path) -> tuple[Path, Path]:
    """Write a new key pair at ``path`` (.key 0644, .key_secret 0600); return both paths."""
    public, secret = (k.decode("ascii") for k in zmq.curve_keypair())
    when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    public_path, secret_path = Path(f"{path}.key"), Path(f"{path}.key_secret")
    for existing in (p for p in (public_path, secret_path) if p.exists()):
        raise ConfigError(f"{existing} exists: move it away first (keygen never overwrites)")
    body = f'metadata\ncurve\n    public-key = "{public}"\n'
    _create(secret_path, BANNER.format(kind="secret", when=when, note=SECRET_NOTE) + body
            + f'    secret-key = "{secret}"\n', 0o600)  # fmt: skip
    _create(public_path, BANNER.format(kind="public", when=when, note=PUBLIC_NOTE) + body, 0o644)
    return public_path, secret_path


def _create(path: Path, text: str, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
    os.chmod(path, mode)  # whatever the umask took away from the public file's mode


def cmd_keygen(args: argparse.Namespace) -> int:
    public, secret = write_key_pair(args.path)
    print(f"wrote {public} (public) and {secret} (secret, 0600)")
    return 0


COMMANDS = {"keygen": cmd_keygen}
