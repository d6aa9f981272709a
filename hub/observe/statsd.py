"""The statsd sink: every ``interval_s`` it sends one snapshot of the hub to statsd over UDP.

Runs on the reactor thread: a timer service (`hub.lifecycle.timers.Every`) on the reactor's clock
calls `flush()`, which reads ``HubService.snapshot()`` (reactor-owned) and sends with the ``statsd``
package's pipeline, which packs the lines into datagrams of at most ``max_udp_size`` bytes. UDP
sends do not block.

What is sent per flush (names in docs/metrics.md, built by ``hub.observe.samples``):
    gauges    every level (backlog, oldest age, workers by state, resources), every flush;
    counters  the delta since the last flush (the sink keeps what it last sent: reading the
              snapshot never resets it), and only when the delta is not zero;
    timings   the window's p50/p90/p99/max as gauges in milliseconds, never one sample per message.
So the traffic is a fixed number of lines per consumer per interval, whatever the message rate.

Every name starts with the prefix: ``statsd.prefix`` when the configuration sets one (``""``:
none), else `default_prefix`, ``hub.<host>`` or ``hub.<host>.<instance>`` under the template unit
``consumer-hub@<instance>``, so two hubs sending to one statsd server never share a gauge.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from typing import Any

from statsd import StatsClient

from hub.config import StatsdConfig
from hub.lifecycle.timers import Every
from hub.observe.metricdefs import BY_CAUSE, COUNTER
from hub.observe.samples import Sample, safe_name, samples, statsd_name

log = logging.getLogger(__name__)

Snapshot = Callable[[], dict[str, Any]]
ClientFactory = Callable[..., Any]  # (host, port, prefix, maxudpsize) -> a StatsClient
INSTANCE_ENV = "CONSUMER_HUB_INSTANCE"  # systemd/consumer-hub@.service sets it to %i


def default_prefix(environ: Mapping[str, str], hostname: str) -> str:
    """``hub.<hostname>``, plus ``.<instance>`` when ``$CONSUMER_HUB_INSTANCE`` is set; each
    part made one safe component (``db1.example.org`` becomes ``db1_example_org``)."""
    parts = ["hub", safe_name(hostname)]
    instance = environ.get(INSTANCE_ENV, "").strip()
    if instance:
        parts.append(safe_name(instance))
    return ".".join(parts)


def statsd_lines(snapshot: dict[str, Any]) -> list[tuple[str, str, float]]:
    """(name, "c" or "g", value) for every sample of ``snapshot``: counters as running totals."""
    lines = []
    for sample in samples(snapshot):
        if sample.metric.statsd is None:
            continue  # Prometheus only (histograms, start time, build info)
        kind = "c" if sample.metric.kind in (COUNTER, BY_CAUSE) else "g"
        lines.append((statsd_name(sample), kind, _scaled(sample, kind)))
    return lines


def _scaled(sample: Sample, kind: str) -> float:
    value = sample.value * sample.metric.scale
    if kind == "c":
        return float(round(value))
    return round(value, 3)


class StatsdSink:
    """Flushes the snapshot to statsd every ``config.interval_s`` seconds."""

    def __init__(
        self,
        reactor: Any,
        config: StatsdConfig,
        *,
        snapshot: Snapshot,
        client_factory: ClientFactory = StatsClient,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.reactor = reactor
        self.config = config
        self.snapshot = snapshot
        self.client_factory = client_factory
        if config.prefix is not None:
            self.prefix = config.prefix
        else:
            self.prefix = default_prefix(os.environ if environ is None else environ,
                                         socket.gethostname())  # fmt: skip
        self.client: Any = None
        self.loop = Every(config.interval_s, self.flush, clock=reactor, now=False)
        self.sent: dict[str, float] = {}  # counter name -> total already sent as deltas
        self.flushes = 0
        self.lines_sent = 0

    def start(self) -> None:
        """Open the UDP client and flush every interval (the first one after one interval)."""
        self.client = self.client_factory(
            self.config.host,
            self.config.port,
            prefix=self.prefix or None,
            maxudpsize=self.config.max_udp_size,
        )
        self.loop.startService()
        log.info(
            "statsd: sending to %s:%d as %s.* every %.1f s",
            self.config.host,
            self.config.port,
            self.prefix,
            self.config.interval_s,
        )

    def stop(self) -> None:
        """Stop the loop and send one last flush, so the final counts are not lost."""
        if not self.loop.running:
            return
        self.loop.stopService()
        self.flush()
        self.client.close()

    def flush(self) -> None:
        """Send one snapshot; an error is logged and the next interval tries again."""
        try:
            lines = self._lines()
        except Exception:
            log.exception("statsd: could not build the snapshot; skipping this flush")
            return
        pipe = self.client.pipeline()
        for name, kind, value in lines:
            if kind == "c":
                pipe.incr(name, _number(value))
            else:
                pipe.gauge(name, _number(value))
        pipe.send()
        self.flushes += 1
        self.lines_sent += len(lines)

    def _lines(self) -> list[tuple[str, str, float]]:
        """The lines of this flush: gauges as they are, counters turned into non-zero deltas."""
        out = []
        for name, kind, value in statsd_lines(self.snapshot()):
            if kind == "c":
                last = self.sent.get(name, 0.0)
                delta = value - last if value >= last else value  # a lower total: a restart
                self.sent[name] = value
                if not delta:
                    continue
                value = delta
            out.append((name, kind, value))
        return out


def _number(value: float) -> int | float:
    """Integers without a trailing ``.0``, which keeps datagrams short."""
    return int(value) if value == int(value) else value
