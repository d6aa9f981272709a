"""What one thread hand-off costs on this machine: ``python -m bench.wakeup``.

Runs in one process: the main thread plays the reactor (every 1 ms it hands a timestamp to a
worker thread through a ``threading.Condition``, as `hub.workers.workqueue` does) and a worker
thread records how long after the hand-off it got it. Five ways, each printed as p50 / p90 / p99:

- ``idle``: the notifier goes idle right after notifying (the wake-up alone);
- ``simple``: the same with a ``queue.SimpleQueue`` (its ``get`` blocks in C, no Python-level
  waiter list or second lock to take back) instead of the ``Condition``;
- ``busy``: the notifier keeps the interpreter lock 30 µs after notifying;
- ``late``: a model of the hub for one message: 25 µs of decode and route, then the notify,
  then a system call that releases the lock (the log write) and 15 µs more work;
- ``early``: the same, but the worker is notified before the 25 µs (woken ahead).

The figures bound what any reactor + worker-thread design can reach in latency here; see
docs/benchmarks.md, round 4.
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from collections.abc import Sequence


def spin(micros: float) -> None:
    """Hold the interpreter lock for ``micros`` µs."""
    end = time.monotonic_ns() + micros * 1000
    while time.monotonic_ns() < end:
        pass


def measure_simple(count: int) -> list[float]:
    """Hand-off delays in µs through a ``queue.SimpleQueue``, the notifier idle after."""
    handoff: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    delays: list[float] = []

    def worker() -> None:
        while (sent := handoff.get()) is not None:
            delays.append((time.monotonic_ns() - sent) / 1000)

    thread = threading.Thread(target=worker, name="wakeup:worker")
    thread.start()
    for _ in range(count):
        time.sleep(0.001)
        handoff.put(time.monotonic_ns())
    handoff.put(None)
    thread.join()
    return sorted(delays)


def measure(mode: str, count: int) -> list[float]:
    """Hand-off delays in µs for ``count`` hand-offs in ``mode``."""
    if mode == "simple":
        return measure_simple(count)
    cond = threading.Condition()
    box: list[int | None] = []  # send times (time.monotonic_ns()); None: stop
    delays: list[float] = []

    def worker() -> None:
        while True:
            with cond:
                while not box:
                    cond.wait()
                now, sent = time.monotonic_ns(), box.pop()
            if sent is None:
                return
            delays.append((now - sent) / 1000)

    thread = threading.Thread(target=worker, name="wakeup:worker")
    thread.start()
    for _ in range(count):
        time.sleep(0.001)
        started = time.monotonic_ns()
        if mode == "early":
            with cond:
                cond.notify()
        if mode in ("early", "late"):
            spin(25)
        with cond:
            box.append(started)
            cond.notify()
        if mode == "busy":
            spin(30)
        elif mode in ("early", "late"):
            time.sleep(0.00001)  # the log write: a system call, the lock released
            spin(15)
    with cond:
        box.append(None)
        cond.notify()
    thread.join()
    return sorted(delays)


def main(argv: Sequence[str] | None = None) -> int:
    """Print p50 / p90 / p99 of each mode."""
    parser = argparse.ArgumentParser(prog="python -m bench.wakeup", description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args(argv)
    for mode in ("idle", "simple", "busy", "late", "early"):
        d = measure(mode, args.count)
        p50, p90, p99 = (d[int(len(d) * f)] for f in (0.5, 0.9, 0.99))
        print(f"{mode:6s} hand-off: p50 {p50:6.1f} µs  p90 {p90:6.1f} µs  p99 {p99:6.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
