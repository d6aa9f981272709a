"""Counting what arrives, and telling the bench process about it.

Runs wherever benchmark messages are counted: on a bench consumer's worker thread inside the hub
subprocess, and in the baseline process's receive loop. One ``Tally`` per receiver, used by one
thread only. It reports to the bench process over a ZeroMQ PUSH socket (the bench binds the PULL
end, see :mod:`bench.collector`); each report is ``[json header]`` or ``[json header, samples]``
with the latency samples as native int64 nanoseconds.

Events: ``warm`` (the first warm-up message arrived), ``progress`` (every ``progress_every``
messages) and ``done`` (the last sequence number, or the expected count, arrived).

With ``from_arrival`` (messages published before the receiver started: the AMQP throughput runs)
a run is timed from the first message's arrival instead of its send, and ``done`` also carries
``cpu_s``: the receiving process's CPU time (``time.process_time()``, all its threads) from the
first message to the last, measured in process so that start-up is not counted.
"""

from __future__ import annotations

import json
import logging
import time
from array import array
from collections.abc import Mapping
from typing import Any

import zmq

log = logging.getLogger(__name__)

PROGRESS_EVERY = 20_000


class Reporter:
    """A lazily connected PUSH socket; owned by the thread that first sends on it."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._socket: zmq.SyncSocket | None = None

    def send(self, header: Mapping[str, Any], payload: bytes | None = None) -> None:
        """Send one report; blocks only if the bench has stopped reading (it never does)."""
        if self._socket is None:
            self._socket = zmq.Context.instance().socket(zmq.PUSH)
            self._socket.setsockopt(zmq.LINGER, 5000)
            self._socket.connect(self.endpoint)
        frames = [json.dumps(header).encode()]
        if payload is not None:
            frames.append(payload)
        self._socket.send_multipart(frames)

    def close(self) -> None:
        """Close the socket (pending reports are flushed for up to 5 s)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None


class Tally:
    """Counts one run's messages, checks their order, keeps latency samples if asked."""

    def __init__(
        self, name: str, expect: int, report: str, latency: bool = False,
        progress_every: int = PROGRESS_EVERY, from_arrival: bool = False,
    ) -> None:  # fmt: skip
        self.name = name
        self.from_arrival = from_arrival
        self.first_cpu_s = 0.0
        self.expect = expect
        self.latency = latency
        self.progress_every = progress_every
        self.reporter = Reporter(report)
        self.missing = 0  # sequence numbers skipped over
        self.disorder = 0  # sequence numbers at or below one already seen
        self.next_seq = 0
        self.checkpoint = 0  # the next sequence number that takes the full path of `observe`
        self.first_sent_ns = 0
        self.warm = False
        self.finished = False
        self.samples = array("q")

    @property
    def count(self) -> int:
        """Messages counted (warm-up excluded): each one in order moved ``next_seq`` on by one,
        a gap by one plus what it skipped (``missing``), a repeat not at all (``disorder``)."""
        return self.next_seq - self.missing + self.disorder

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Tally:
        """A tally from a bench consumer's config dict (keys name, expect, report, latency,
        from_arrival)."""
        return cls(
            config["name"], int(config["expect"]), config["report"], config.get("latency", False),
            from_arrival=bool(config.get("from_arrival", False)),
        )  # fmt: skip

    def observe(self, seq: int, sent_ns: int) -> None:
        """Count message ``seq``, sent at ``sent_ns`` (``time.monotonic_ns()`` of the publisher).

        The common case (the next sequence number, and no event due) is one comparison and one
        store: the bench measures the hub, so its own consumer must cost next to nothing, in
        the hub's ten consumers and the baseline's loop alike. Everything else (warm-up, the
        first message, a gap or a repeat, a progress report, the last message, and every
        message when latency samples are kept) goes through `_observe`.
        """
        if seq == self.next_seq != self.checkpoint:
            self.next_seq = seq + 1
        else:
            self._observe(seq, sent_ns)

    def _observe(self, seq: int, sent_ns: int) -> None:
        if seq < 0:
            if not self.warm:
                self.warm = True
                self._send("warm")
            return
        if self.latency:
            self.samples.append(time.monotonic_ns() - sent_ns)
        if self.count == 0:
            self.first_sent_ns = time.monotonic_ns() if self.from_arrival else sent_ns
            self.first_cpu_s = time.process_time()
        if seq != self.next_seq:
            self._out_of_sequence(seq)
        self.next_seq = max(self.next_seq, seq + 1)
        count = self.count
        if count % self.progress_every == 0:
            self._send("progress")
        if seq == self.expect - 1 or count == self.expect:
            self._finish()
        self.checkpoint = self._next_checkpoint()

    def _next_checkpoint(self) -> int:
        """The sequence number at which, if every message until then comes in order, the next
        event is due: a progress report or the end (every one when keeping latency samples)."""
        if self.latency:
            return self.next_seq
        count = self.count
        steps = [self.progress_every - count % self.progress_every]
        if count < self.expect:
            steps.append(self.expect - count)
        due = self.next_seq + min(steps) - 1
        return min(due, self.expect - 1) if self.expect - 1 >= self.next_seq else due

    def _out_of_sequence(self, seq: int) -> None:
        if seq > self.next_seq:
            self.missing += seq - self.next_seq
        else:
            self.disorder += 1

    def _finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        last_ns, cpu_s = time.monotonic_ns(), time.process_time() - self.first_cpu_s
        payload = self.samples.tobytes() if self.latency else None
        self._send("done", last_ns=last_ns, cpu_s=cpu_s, payload=payload)

    def _send(self, event: str, payload: bytes | None = None, **extra: Any) -> None:
        header = {
            "event": event,
            "name": self.name,
            "count": self.count,
            "missing": self.missing,
            "disorder": self.disorder,
            "first_sent_ns": self.first_sent_ns,
            **extra,
        }
        self.reporter.send(header, payload)

    def close(self) -> None:
        """Release the report socket."""
        self.reporter.close()
