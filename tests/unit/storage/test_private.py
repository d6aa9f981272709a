"""hub.storage.private: the state directory and the hub's files in it are private to the hub."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hub.config import config_from_dict
from hub.storage.deadletters import DeadLetterStore
from hub.storage.durable import Durable
from hub.storage.private import UnsafeStateDir, make_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_state_dir_and_every_file_the_hub_writes_are_private(tmp_path: Path) -> None:
    """Created by the hub: the directory 0700; log, cursors and dead letters 0600."""
    state = tmp_path / "state"
    old = os.umask(0o022)  # a lax umask: the modes come from the hub, not from it
    try:
        durable = Durable(config_from_dict({"endpoints": ["tcp://a:1"], "state_dir": str(state)}),
                          lambda f, *a: f(*a))  # fmt: skip
        durable.open()
        durable.cursors.commit({"x": 1})
        durable.close()
        letters = DeadLetterStore(state / "deadletters.sqlite")
        letters.open()
        letters.close()
    finally:
        os.umask(old)
    assert mode(state) == 0o700 and mode(state / "log") == 0o700
    files = [p for p in state.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"cursors.json", "deadletters.sqlite"}
    assert any(p.parent.name == "log" for p in files)
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


@pytest.mark.parametrize("lax", [0o777, 0o770, 0o702])
def test_a_state_dir_others_can_write_is_refused_naming_it(tmp_path: Path, lax: int) -> None:
    """Group- or world-writable: UnsafeStateDir (exit code 3) with the path and its mode."""
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(lax)
    with pytest.raises(UnsafeStateDir) as info:
        make_private(state)
    assert str(state) in str(info.value) and f"{lax:04o}" in str(info.value)
    assert info.value.exit_code == 3


def test_what_is_readable_by_others_is_tightened(tmp_path: Path) -> None:
    """A 0755 directory with a 0644 dead-letter file (an older hub's) becomes 0700/0600."""
    state = tmp_path / "state"
    (state / "log").mkdir(parents=True)
    state.chmod(0o755)
    (state / "deadletters.sqlite").write_bytes(b"")
    (state / "deadletters.sqlite").chmod(0o644)
    make_private(state)
    assert (mode(state), mode(state / "log"), mode(state / "deadletters.sqlite")) == (
        0o700, 0o700, 0o600)  # fmt: skip
