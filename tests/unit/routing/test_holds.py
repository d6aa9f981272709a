"""hub.routing.holds: input stays paused while any reason holds it."""

from __future__ import annotations

from hub.routing.holds import Holds
from tests.fakes import Input


def test_input_resumes_only_once_every_reason_let_go() -> None:
    """disk and signatures both pause: one pause; the input resumes after the second release."""
    source = Input()
    holds = Holds(source)
    disk, signatures = holds.holder("disk"), holds.holder("signatures")
    disk.pause()
    signatures.pause()
    disk.pause()  # again: still one reason
    disk.resume()
    assert source.events == ["pause"]
    signatures.resume()
    signatures.resume()  # not held any more: nothing to do
    assert source.events == ["pause", "resume"]
