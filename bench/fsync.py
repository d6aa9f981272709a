"""The cost of each fsync policy of the durable log (`hub.storage.store.SegmentLog`).

Runs on the main thread (the reactor's role: one ``append`` per input batch). For each policy it
appends ``--batches`` batches of ``--batch`` messages of ``--size`` bytes to a fresh log in
``--dir`` (default: a temporary directory; point it at the disk the state_dir lives on) and
prints messages a second, MB a second and the p50/p99 time of one batch append.

    .venv/bin/python bench/fsync.py [--dir DIR] [--batches 2000] [--batch 100] [--size 300]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from hub.storage.store import SegmentLog


def run(directory: Path, policy: str, batches: int, batch: int, size: int) -> dict[str, float]:
    """Append and time; return the figures of one policy."""
    store = SegmentLog(
        directory / policy, segment_bytes=64 << 20, fsync=policy, fsync_interval_ms=200
    )
    store.open()
    envelope = b'{"topic": "t", "msg": "' + b"x" * max(0, size - 24) + b'"}'
    entries = [(time.time(), "", b"org.fedoraproject.prod.bench", envelope)] * batch
    times = []
    start = time.perf_counter()
    for _ in range(batches):
        t0 = time.perf_counter()
        store.append(entries)
        times.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    written = store.disk_bytes
    store.close()
    times.sort()
    return {
        "msgs_per_s": batches * batch / elapsed,
        "mb_per_s": written / elapsed / 2**20,
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[max(0, int(len(times) * 0.99) - 1)] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--size", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        print(f"{args.batches} batches x {args.batch} messages x {args.size} bytes in {tmp}")
        print(f"{'policy':<10}{'msgs/s':>12}{'MB/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for policy in ("never", "interval", "always"):
            batches = args.batches if policy != "always" else max(50, args.batches // 10)
            r = run(Path(tmp), policy, batches, args.batch, args.size)
            print(f"{policy:<10}{r['msgs_per_s']:>12,.0f}{r['mb_per_s']:>9.1f}"
                  f"{r['p50_ms']:>9.3f}{r['p99_ms']:>9.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
