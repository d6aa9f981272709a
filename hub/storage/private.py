"""The state directory is private to the hub: directories 0700, files 0600 (dead letters and the
log hold message bodies); one that others can write is refused.

Runs on the reactor thread at start-up (`make_private`, from `hub.storage.durable.Durable.open`)
and on whichever thread writes a state file (`private_text`: the ``store:commit`` thread for the
cursors, the reactor for the AMQP bindings record). A state directory that another user can
write, or that belongs to another user (who could make it so), is refused with
`UnsafeStateDir`, naming it: such a user could plant a log segment or a dead letter, which the
hub would hand to its consumers. Files and directories the hub finds laxer than its own modes
(left by an older version, or ``StateDirectoryMode=``'s 0755) are tightened, and said so.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from hub.errors import ConfigError

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


class UnsafeStateDir(ConfigError):
    """``state_dir`` is writable by others, or owned by another user (exit code 3)."""


def make_private(state_dir: Path) -> None:
    """Create ``state_dir`` 0700, or refuse an existing one others can write; tighten what is
    in it to 0700/0600."""
    state_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    info = state_dir.stat()
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise UnsafeStateDir(f"state_dir {state_dir} is writable by others (mode {mode:04o}): "
                             f"chmod 0700 it, or choose another state_dir")  # fmt: skip
    if info.st_uid not in (os.geteuid(), 0):
        raise UnsafeStateDir(f"state_dir {state_dir} belongs to uid {info.st_uid}, not to the "
                             f"hub's ({os.geteuid()}): chown it, or choose another "
                             "state_dir")  # fmt: skip
    tightened = [p for p in (state_dir, *state_dir.rglob("*")) if _tighten(p)]
    if tightened:
        log.warning("state_dir %s: %d file(s) and directories were readable by others; now "
                    "0700/0600: %s", state_dir, len(tightened),
                    ", ".join(str(p) for p in tightened[:5]))  # fmt: skip


def _tighten(path: Path) -> bool:
    """Clear group and other bits of a directory or regular file of ours; True if it had any."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if info.st_uid != os.geteuid() or not (
        stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)
    ):
        return False
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return False
    os.chmod(path, mode & 0o700)
    return True


def create_private(path: Path) -> None:
    """Create ``path`` 0600 if it does not exist yet (before SQLite opens it: its -wal and -shm
    files take the database file's mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


def private_text(path: Path, text: str, *, fsync: bool = False) -> None:
    """Write ``text`` to ``path`` atomically (a 0600 temporary file renamed over it)."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        if fsync:
            os.fsync(f.fileno())
    os.replace(tmp, path)
