"""hub.transports.amqp.bound: the keys a hub bound survive a restart; the dropped ones are stale."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hub.transports.amqp.bound import BoundKeys


def test_keys_a_restart_no_longer_wants_are_stale(tmp_path: Path) -> None:
    """What was saved before comes back after a restart: the keys the new topics drop are
    stale, the kept ones are not, and a queue seen for the first time has none."""
    path = tmp_path / "amqp-bindings.json"
    before = BoundKeys(path)
    assert before.stale("q.a", ("a.#", "b.#")) == ()
    before.save()
    after = BoundKeys(path)
    assert after.stale("q.a", ("b.#", "c.#")) == ("a.#",)
    assert after.stale("q.new", ("x.#",)) == ()
    after.save()
    assert BoundKeys(path).stale("q.a", ()) == ("b.#", "c.#")


def test_an_unreadable_record_is_logged_and_unbinds_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A garbled file: a warning naming it, no stale key, and the next save replaces it."""
    path = tmp_path / "amqp-bindings.json"
    path.write_text("{not json")
    keys = BoundKeys(path)
    with caplog.at_level(logging.WARNING, "hub.transports.amqp.bound"):
        assert keys.stale("q.a", ("a.#",)) == ()
    assert str(path) in caplog.text
    keys.save()
    assert BoundKeys(path).stale("q.a", ()) == ("a.#",)
