"""One timed AMQP run: a pika loop or a hub draining a filled queue, or N hubs sharing one.

Runs in the bench process's main thread, on the broker of `bench.broker` (the scenarios are in
`bench.amqp_scenarios`). Every run gets its own queue prefix and topic root and deletes its queues
at the end.

- **Into one consumer** (`drain`): the receiver's queue is declared as the hub declares it, filled
  with ``count`` messages (publishes unconfirmed, then the queue's ready count polled), and only
  then is the receiver started: a pika loop (`bench.pika_loop`) or a hub whose `CountingConsumer`
  reads that queue (``prefetch`` and ``basic_qos`` the same). Each is timed in process, from its
  first delivery to its last (``from_arrival``), with its process's CPU time over the same span;
  start-up and the broker's own CPU are outside both.
- **Shared** (`shared`): ``hubs`` hub processes with the same config (each its own ``state_dir``
  and status port 0) share the queue of one `SharedConsumer`; all are started, ready (/ready 200)
  and consuming before a live publisher (`bench.amqp_publisher`) sends ``count`` messages, as
  fast as it can or at ``rate`` a second. Each message costs the consumer ``work_ms`` slept: an
  I/O-bound consumer (a web call, a database write), the common kind, whose throughput one hub
  process bounds at ``1 / work`` and more hubs multiply; a CPU cost would measure this 2-core
  machine's cores rather than the hubs (two processes at most, and the broker needs one too).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from bench import broker
from bench.amqp_publisher import LivePublisher, publish
from bench.baseline import Baseline
from bench.collector import Collector
from bench.hubproc import COUNTING, Hub, consumer_entry
from bench.session import QUEUE_SIZE, AmqpSettings, Run
from bench.share import ShareCollector, Shared

log = logging.getLogger(__name__)

SHARED = "bench.consumers:SharedConsumer"
FILL_TIMEOUT_S = 120.0
DrainReceiver = Callable[[Path, str, str, Any], Baseline | Hub]  # tmp, report, prefix, spec


def pika_loop(main: Callable[..., None], name: str, prefetch: int, count: int) -> DrainReceiver:
    """A pika loop (`bench.pika_loop.select_main` or ``blocking_main``) on the run's queue."""

    def make(_tmp: Path, report: str, _prefix: str, spec: Any) -> Baseline:
        loop = partial(main, queue=spec.name, prefetch=prefetch)
        return Baseline(count, report, False, loop, (name,))

    return make


def counting_hub(
    url: str, prefetch: int, count: int, hub_src: Path | None, profile: Path | None = None
) -> DrainReceiver:
    """A hub whose one `CountingConsumer` ("fast") reads the run's queue (a py-spy profile of
    each run into the directory ``profile``, if given)."""

    def make(tmp: Path, report: str, prefix: str, spec: Any) -> Hub:
        config = {"name": "fast", "expect": count, "report": report, "from_arrival": True}
        entry = dict(consumer_entry(COUNTING, config, QUEUE_SIZE), topics=spec.topics)
        amqp = {"url": url, "queue_prefix": prefix, "prefetch": prefetch}
        out = profile / f"amqp-1x{count}-{prefix}.txt" if profile else None
        return Hub(tmp, {"fast": entry}, profile=out, hub_src=hub_src, amqp=amqp)

    return make


class _Spec:
    """A run's queue (`bench.broker.queue_spec`) and the consumer topics it is bound for."""

    def __init__(self, prefix: str, name: str, root: str, prefetch: int) -> None:
        self.spec = broker.queue_spec(prefix, name, root, prefetch)
        self.name = self.spec.name
        self.topics = [f"{root}.*"]


def drain(url: str, make: DrainReceiver, consumer: str, count: int, idle_timeout: float) -> Run:
    """Fill a queue with ``count`` messages, then time ``make``'s receiver draining it."""
    prefix, root = broker.run_names()
    spec = _Spec(prefix, consumer, root, 0)
    with tempfile.TemporaryDirectory(prefix="bench-amqp-") as tmp, _queue(url, spec):
        send_rate = _fill(url, root, spec.name, count)
        collector = Collector(Path(tmp))
        receiver = make(Path(tmp), collector.endpoint, prefix, spec)
        try:
            receiver.start(url)
            done = collector.wait_done(receiver.names, count, receiver.alive, idle_timeout)
            return Run(done, send_rate, next(iter(done.values())).cpu_s)
        finally:
            receiver.stop()
            collector.close()


def _fill(url: str, root: str, queue: str, count: int) -> float:
    """Publish ``count`` messages and wait until the queue holds them; the publish rate."""
    connection = broker.connect(url)
    try:
        first_ns, last_ns = publish(connection.channel(), root, count)
    finally:
        connection.close()
    broker.wait_ready(url, queue, count, FILL_TIMEOUT_S)
    return count / max(last_ns - first_ns, 1) * 1e9


@contextlib.contextmanager
def _queue(url: str, spec: _Spec) -> Iterator[None]:
    """The run's queue, declared as the hub declares it, deleted at the end."""
    broker.declare(url, spec.spec)
    try:
        yield
    finally:
        broker.delete(url, spec.spec)


def shared(  # noqa: PLR0913 - one run's shape
    url: str, s: AmqpSettings, hubs: int, count: int, rate: float, hub_src: Path | None,
    idle_timeout: float,
) -> Shared:  # fmt: skip
    """``hubs`` hubs share one consumer's queue; ``count`` messages published live."""
    prefix, root = broker.run_names()
    spec = _Spec(prefix, "shared", root, s.shared_prefetch)
    amqp = {"url": url, "queue_prefix": prefix, "prefetch": s.shared_prefetch}
    with tempfile.TemporaryDirectory(prefix="bench-amqp-") as tmp, _queue(url, spec):
        collector = ShareCollector(Path(tmp))
        started: list[Hub] = []
        publisher = LivePublisher(url, root, count, rate)
        try:
            for i in range(hubs):
                config = {"name": f"hub{i}", "report": collector.endpoint, "work_ms": s.work_ms}
                entry = dict(consumer_entry(SHARED, config, QUEUE_SIZE), topics=spec.topics)
                (Path(tmp) / f"hub{i}").mkdir()
                started.append(Hub(Path(tmp) / f"hub{i}", {"shared": entry}, hub_src=hub_src,
                                   amqp=amqp))  # fmt: skip
                started[-1].start(url)
            publisher.start()
            publisher.go()
            alive = lambda: all(h.alive() for h in started)  # noqa: E731
            outcome = collector.wait_all(count, alive, idle_timeout)
            publisher.wait_sent(30)
            return outcome
        finally:
            for hub in started:
                hub.stop()
            publisher.stop()
            collector.close()
