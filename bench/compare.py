"""Before/after: ``python -m bench.compare --before DIR [--after DIR]``, interleaved hub runs.

Runs in the bench process's main thread. For ``--rounds`` rounds it runs each variant in turn
(before, after, before, after ...; each run a fresh hub) and prints, per variant and kind of
run, the median and best throughput and CPU per message. ``DIR`` is a directory holding a
``hub`` package, e.g. ``git archive <commit> hub | tar -x -C DIR``; ``--after`` defaults to
this checkout. Interleaving and CPU time make the comparison hold on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.session import ReceiverFactory, Run, Session, Settings

KINDS = ("one", "ten", "stalled")


def factory(session: Session, kind: str, count: int) -> ReceiverFactory:
    """The hub of one kind of run: 1 consumer, 10 consumers, or 1 beside a stalled one."""
    if kind == "ten":
        return session.hub(10, count)
    return session.hub(1, count, stalled=kind == "stalled")


def compare(
    variants: dict[str, Path | None], kinds: Sequence[str], count: int, rounds: int
) -> None:
    """Run and print the comparison table."""
    runs: dict[tuple[str, str], list[Run]] = {(v, k): [] for v in variants for k in kinds}
    for _ in range(rounds):
        for label, src in variants.items():
            session = Session(Settings(messages=count, hub_src=src))
            for kind in kinds:
                runs[label, kind].append(session.run(factory(session, kind, count), count))
    print("| variant | run | msg/s median (best) | CPU/msg median (best) |")
    print("|---|---|---:|---:|")
    for (label, kind), results in runs.items():
        rates = [r.rate for r in results]
        cpus = [r.cpu_per_message * 1e6 for r in results]
        print(f"| {label} | {kind} | {statistics.median(rates):,.0f} ({max(rates):,.0f}) | "
              f"{statistics.median(cpus):.1f} µs ({min(cpus):.1f}) |")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options and compare."""
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="directory with a hub package")
    parser.add_argument("--after", type=Path, help="directory with a hub package (default: here)")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"subset of {','.join(KINDS)}")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k in KINDS]
    compare({"before": args.before, "after": args.after}, kinds, args.messages, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
