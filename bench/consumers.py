"""Bench consumer plugins, loaded by the hub subprocess as ``bench.consumers:<Class>``.

Their methods run on the consumer's own worker thread inside the hub (``setup`` and ``consume``;
``teardown`` on shutdown). They do as little as a consumer can while still proving that every
message arrived: see :class:`bench.tally.Tally`.

Config keys (``consumers.<name>.config``): ``name``, ``expect`` (messages in the timed run),
``report`` (the bench's PULL endpoint), ``latency`` (keep send -> consume() samples);
``StalledConsumer`` takes only ``release``: a file whose appearance ends the stall, so the hub
can still shut down cleanly at the end of a run. ``SharedConsumer`` (one consumer's queue shared
by several hubs) takes ``name``, ``report`` and ``work_ms``: each message costs that long (a
sleep: an I/O-bound consumer, see `bench.amqp_runs`) and is then reported on its own.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from pathlib import Path

from bench.tally import Reporter, Tally
from bench.wire import STAMP
from hub import Consumer

log = logging.getLogger(__name__)


class CountingConsumer(Consumer):
    """Counts every message (and its latency, if asked) and reports to the bench process."""

    topics = ["*"]

    def setup(self) -> None:
        """Build the tally; its report socket is created on first use, on this thread."""
        self._tally = Tally.from_config(self.config)
        self._observe = self._tally.observe

    def consume(self, message) -> None:  # type: ignore[no-untyped-def]
        """Count one message; nothing else."""
        self._observe(*message.body[STAMP])

    def teardown(self) -> None:
        """Close the report socket."""
        self._tally.close()


class StalledConsumer(Consumer):
    """Blocks in its first ``consume()`` until the ``release`` file exists (for ever if unset)."""

    topics = ["*"]

    _released = False

    def consume(self, message) -> None:  # type: ignore[no-untyped-def]
        """Stall: the first call blocks, so the consumer's queue only grows."""
        if self._released:
            return
        release = self.config.get("release")
        if release is None:
            threading.Event().wait()
        path = Path(str(release))
        while not path.exists():
            time.sleep(0.1)
        self._released = True


SEEN = struct.Struct("=qqqq")  # seq, sent_ns, consume() start and end ns: one report


class SharedConsumer(Consumer):
    """A consumer several hubs share (competing on one queue): each message costs ``work_ms``
    (slept: the worker thread waits as on a web service), then its seq, send time and consume()
    start and end go to the bench, which counts over every hub (`bench.share.ShareCollector`)."""

    topics = ["*"]

    def setup(self) -> None:
        """The report socket is created on first use, on this thread."""
        self._reporter = Reporter(str(self.config["report"]))
        self._header = {"event": "seen", "name": str(self.config["name"])}
        self._work_s = float(self.config.get("work_ms", 0)) / 1000

    def consume(self, message) -> None:  # type: ignore[no-untyped-def]
        """Work, then report this message."""
        started = time.monotonic_ns()
        seq, sent_ns = message.body[STAMP]
        if self._work_s:
            time.sleep(self._work_s)
        self._reporter.send(self._header, SEEN.pack(seq, sent_ns, started, time.monotonic_ns()))

    def teardown(self) -> None:
        """Close the report socket (pending reports are flushed)."""
        self._reporter.close()
