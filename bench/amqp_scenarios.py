"""The AMQP scenarios (issue #14): into 1 consumer against a plain pika loop; 1, 2, 4 hubs on one
consumer's queue. Not in the default suite: they need a broker (``--only amqp,amqp-scale``).

Runs in the bench process's main thread; the runs themselves are `bench.amqp_runs`. Every
receiver takes turns in each of the ``--repeat`` rounds; a row gives the best round and the
range over the rounds (``lo-hi``), so a load on the shared host that drifts shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench import amqp_runs, report
from bench.pika_loop import BLOCKING, SELECT, TWISTED, blocking_main, select_main, twisted_main
from bench.report import Row
from bench.session import Run, Session
from bench.share import Shared


def amqp(session: Session) -> list[Row]:
    """Messages/s into 1 consumer from a filled queue: the hub against pika loops (same
    prefetch, one ack per message), taking turns each round."""
    s, url = session.settings, session.broker.url()
    n, prefetch, timeout = s.amqp.messages, s.amqp.prefetch, s.idle_timeout
    makers = [
        (amqp_runs.pika_loop(select_main, SELECT, prefetch, n), SELECT),
        (amqp_runs.pika_loop(blocking_main, BLOCKING, prefetch, n), BLOCKING),
        (amqp_runs.pika_loop(twisted_main, TWISTED, prefetch, n), TWISTED),
        (amqp_runs.counting_hub(url, prefetch, n, s.hub_src, s.profile), "fast"),
    ]
    rounds = [
        [amqp_runs.drain(url, make, name, n, timeout) for make, name in makers]
        for _ in range(s.repeat)
    ]
    select, blocking, floor, hub = ([r[i] for r in rounds] for i in range(len(makers)))
    return _amqp_rows(n, prefetch, select, blocking, hub) + _floor_rows(select, floor, hub)


def _best(runs: list[Run]) -> Run:
    return max(runs, key=lambda r: r.rate)


def _amqp_rows(
    n: int, prefetch: int, select: list[Run], blocking: list[Run], hub: list[Run]
) -> list[Row]:
    base, slow, one = _best(select), _best(blocking), _best(hub)
    b = report.rate(base.rate)
    ratios = [h.rate / p.rate for h, p in zip(hub, select, strict=True)]
    return [
        Row(f"publisher, filling the queue with {n:,} messages (prefetch {prefetch:,})",
            report.rate(min(r.send_rate for r in hub)), "", None),
        Row("pika BlockingConnection loop", report.rate(slow.rate), b, slow.rate / base.rate),
        Row("1 consumer (hub)", report.rate(one.rate), b, one.rate / base.rate, ">= 1.0x",
            one.rate >= base.rate),
        Row("1 consumer / SelectConnection loop, each round", report.spread(ratios), "", None),
        Row("1 consumer / BlockingConnection loop", "", "", one.rate / slow.rate),
        _cpu("1 consumer (hub)", one, base),
        _cpu("pika BlockingConnection loop", slow, base),
    ]  # fmt: skip


def _floor_rows(select: list[Run], floor: list[Run], hub: list[Run]) -> list[Row]:
    """pika's Twisted adapter alone (the protocol the hub's is built on, with pika reading the
    deliveries) against the loop, and the hub against it."""
    base, twisted = _best(select), _best(floor)
    b = report.rate(base.rate)
    ratios = [h.rate / f.rate for h, f in zip(hub, floor, strict=True)]
    return [
        Row("pika Twisted adapter loop", report.rate(twisted.rate), b,
            twisted.rate / base.rate),
        Row("1 consumer / pika Twisted adapter loop, each round", report.spread(ratios), "", None),
        _cpu("pika Twisted adapter loop", twisted, base),
    ]  # fmt: skip


def _cpu(label: str, run: Run, base: Run) -> Row:
    """CPU per message against the SelectConnection loop's (in process, first to last message)."""
    mine, theirs = run.cpu_per_message, base.cpu_per_message
    ratio = mine / theirs if theirs else None
    return Row(f"{label}: CPU per message", report.micros(mine * 1e9), report.micros(theirs * 1e9),
               ratio)  # fmt: skip


def amqp_scale(session: Session) -> list[Row]:
    """1, 2, 4 hubs sharing one consumer's queue: throughput (unpaced) and latency at a fixed
    offered load below one hub's capacity; the hub counts take turns each round."""
    s, url = session.settings, session.broker.url()
    a = s.amqp

    def rounds(count: int, rate: float) -> list[list[Shared]]:
        runs = [
            [amqp_runs.shared(url, a, h, count, rate, s.hub_src, s.idle_timeout) for h in a.hubs]
            for _ in range(s.repeat)
        ]
        return [[r[i] for r in runs] for i in range(len(a.hubs))]

    unpaced, paced = rounds(a.shared_messages, 0.0), rounds(a.load_messages, a.load)
    rows = [Row(f"work per message: {a.work_ms:g} ms slept, prefetch {a.shared_prefetch}",
                report.rate(1000 / a.work_ms), "", None, "(1 hub's bound)")]  # fmt: skip
    for hubs, runs in zip(a.hubs, unpaced, strict=True):
        rows += _scale_rows(hubs, runs, unpaced[0])
    return rows + _latency_rows(a.load, a.hubs, paced)


def _scale_rows(hubs: int, runs: list[Shared], ones: list[Shared]) -> list[Row]:
    """Throughput of ``hubs`` hubs (best round) against 1 hub's, and the factor each round."""
    best, one = max(runs, key=lambda r: r.rate), max(r.rate for r in ones)
    factors = [r.rate / o.rate for r, o in zip(runs, ones, strict=True)]
    shares = ", ".join(f"{c:,}" for c in best.per_hub.values())
    return [
        Row(
            f"{hubs} hub(s): throughput", report.rate(best.rate), report.rate(one), best.rate / one
        ),
        Row(f"{hubs} hub(s): factor, each round", report.spread(factors), "", None),
        Row(f"{hubs} hub(s): messages per hub (best round)", shares, "", None),
    ]


def _latency_rows(load: int, hubs: Sequence[int], paced: list[list[Shared]]) -> list[Row]:
    """p50/p99 of every round's samples pooled, per hub count, against 1 hub's."""
    pooled = [sorted(x for run in runs for x in run.latencies) for runs in paced]
    rows = []
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        one = report.percentile(pooled[0], fraction)
        for count, samples, runs in zip(hubs, pooled, paced, strict=True):
            value = report.percentile(samples, fraction)
            each = report.spread(
                [report.percentile(r.latencies, fraction) / 1e3 for r in runs], "{:,.0f}"
            )
            figure = f"{count} hub(s), {load:,}/s: {label} (rounds: {each} µs)"
            rows.append(Row(figure, report.micros(value), report.micros(one), value / max(one, 1)))
    return rows
