"""The hub's own path without sockets: ``python -m bench.pipeline``.

Runs a real `hub.lifecycle.service.HubService` on the real reactor in this process, but feeds its
router from memory (batches of frames received beforehand) instead of from the SUB socket, and
prints the CPU time per message of everything after ``receive()``: decode, route, log, queue,
worker, ``consume()``, outcomes and stats. Deterministic enough to compare one change against
another in seconds, without the publisher and the noise of ZeroMQ's I/O threads; the end-to-end
figures still come from ``python -m bench``. Runs on this process's main thread (the reactor) and
the hub's own worker threads.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twisted.internet import reactor as default_reactor

from bench.wire import make_templates
from hub import Consumer, Message
from hub.config import config_from_dict
from hub.lifecycle.service import HubService

BATCH = 1_000


class NullConsumer(Consumer):
    """Reads the bench stamp of each message and nothing else."""

    topics = ["*"]

    def consume(self, message: Message) -> None:
        """As little as a consumer can do."""
        message.body["bench"]


def frames(count: int) -> list[list[list[bytes]]]:
    """``count`` stamped sample messages, in input batches of ``BATCH``."""
    templates = make_templates()
    now = time.monotonic_ns()
    flat = [list(templates[n % len(templates)].frames(n, now)) for n in range(count)]
    return [flat[i : i + BATCH] for i in range(0, count, BATCH)]


def cpu() -> float:
    """User + system CPU seconds of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(consumers: int, count: int, reactor: Any = default_reactor) -> tuple[float, float, int]:
    """(CPU µs a message, wall µs a message, messages read back from disk) for ``count``
    messages into ``consumers``."""
    state = tempfile.mkdtemp(prefix="hub-pipeline-")
    config = config_from_dict({
        "endpoints": ["bind:tcp://127.0.0.1:0"],
        "status": {"enabled": False},
        "state_dir": str(Path(state) / "state"),
        "upstream_gaps": True,
        "consumers": {f"c{n}": {"class": "bench.pipeline:NullConsumer"} for n in range(consumers)},
    })  # fmt: skip
    service = HubService(config, reactor)
    batches = frames(count)
    result: list[float] = []

    def done() -> bool:
        lives = service.consumers
        return all(service.stats.consumer(c.name).counters["done"] >= count for c in lives)

    def feed(index: int = 0) -> None:
        if index < len(batches):
            service.enqueuer.on_batch(batches[index])
            reactor.callLater(0, feed, index + 1)
        elif not done():
            reactor.callLater(0.001, feed, index)
        else:
            result.extend([cpu() - start[0], time.perf_counter() - start[1]])
            result.append(sum(s.read_back for s in service.durable.spools.values()))
            service.stop().addBoth(lambda _: reactor.stop())

    start = [0.0, 0.0]

    def ready(_: object) -> None:
        start[:] = [cpu(), time.perf_counter()]
        feed()

    service.start().addCallbacks(ready, lambda f: (f.printTraceback(), reactor.stop()))
    reactor.run()
    if not result:
        raise RuntimeError("the hub did not start (traceback above)")
    return result[0] / count * 1e6, result[1] / count * 1e6, int(result[2])


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, run once, print one line."""
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--consumers", type=int, default=1)
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args(argv)
    cpu_us, wall_us, read_back = run(args.consumers, args.messages)
    rate = 1e6 / wall_us
    print(f"{args.consumers} consumer(s), {args.messages:,} messages: {cpu_us:.2f} µs CPU and "
          f"{wall_us:.2f} µs wall a message ({rate:,.0f} msg/s; {read_back:,} read back from "
          "disk)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
