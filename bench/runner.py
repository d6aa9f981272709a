"""``python -m bench``: parse options, run the chosen scenarios, print the report.

Runs in the bench process's main thread. Exit codes: 0 every run completed (targets missed are
reported, not failed: speed is a measurement, not a test); 2 a receiver lost a message or got one
out of order; 1 the harness itself failed (a process did not start, a hub did not get ready).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench import report
from bench.collector import LossError
from bench.scenarios import DEFAULT, SCENARIOS
from bench.session import Session, Settings

log = logging.getLogger(__name__)

EXIT_OK, EXIT_HARNESS, EXIT_LOSS = 0, 1, 2


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small runs, about a minute in all")
    parser.add_argument("--messages", type=int, help="messages per throughput/isolation run")
    parser.add_argument("--latency-messages", type=int, help="messages per latency run (each load)")
    parser.add_argument("--backlog", type=int, help="backlog size for the memory run")
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT),
        help=f"comma-separated subset of {','.join(SCENARIOS)} (default: {','.join(DEFAULT)})",
    )
    parser.add_argument(
        "--profile", type=Path, help="record a py-spy profile of every hub run into this directory"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="unpaced runs: keep the best of N (noisy machine)"
    )
    parser.add_argument(
        "--hub-src", type=Path, help="run the hub package in this directory (before/after runs)"
    )
    parser.add_argument(
        "--amqp-url", help="the AMQP scenarios' broker (default: a private RabbitMQ node)"
    )
    parser.add_argument(
        "--shared-messages", type=int, help="messages per amqp-scale run (both kinds)"
    )
    parser.add_argument("--hubs", help="amqp-scale: comma-separated hub counts (default 1,2,4)")
    parser.add_argument("--archive-messages", type=int, help="messages per archive hub run")
    parser.add_argument(
        "--datanommer-messages", type=int, help="messages per archive datanommer run"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    """Sizes from ``--quick`` and the explicit overrides."""
    s = Settings.quick() if args.quick else Settings()
    shared = args.shared_messages
    amqp = dataclasses.replace(
        s.amqp,
        messages=args.messages or s.amqp.messages,
        shared_messages=shared or s.amqp.shared_messages,
        load_messages=shared or s.amqp.load_messages,
        hubs=tuple(int(h) for h in args.hubs.split(",")) if args.hubs else s.amqp.hubs,
    )
    archive = dataclasses.replace(
        s.archive,
        messages=args.archive_messages or s.archive.messages,
        datanommer_messages=args.datanommer_messages or s.archive.datanommer_messages,
    )
    latency = s.latency_messages
    if args.latency_messages:
        latency = dict.fromkeys(latency, args.latency_messages)
    return Settings(
        messages=args.messages or s.messages,
        fanout=s.fanout,
        latency_messages=latency,
        backlog=args.backlog or s.backlog,
        idle_timeout=s.idle_timeout,
        repeat=max(1, args.repeat),
        profile=args.profile,
        hub_src=args.hub_src,
        amqp=amqp,
        amqp_url=args.amqp_url,
        archive=archive,
    )


def chosen(only: str) -> list[str]:
    """Validated scenario names, in the canonical order."""
    names = {n.strip() for n in only.split(",") if n.strip()}
    unknown = names - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s) {sorted(unknown)}; choose from {list(SCENARIOS)}")
    return [n for n in SCENARIOS if n in names]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit code (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    session = Session(settings_from(args))
    print(report.machine_header(argv), flush=True)
    try:
        return run_scenarios(session, chosen(args.only))
    finally:
        session.close()


def run_scenarios(session: Session, names: list[str]) -> int:
    """Run each scenario, print its table; the exit code."""
    for name in names:
        started, stolen = time.monotonic(), report.steal_ms()
        try:
            rows = SCENARIOS[name](session)
        except LossError as error:
            print(f"\n{name}: FAILED: {error}", file=sys.stderr, flush=True)
            return EXIT_LOSS
        except Exception:
            log.exception("%s: the harness failed", name)
            return EXIT_HARNESS
        took, stolen = time.monotonic() - started, report.steal_ms() - stolen
        title = f"{name} ({took:.0f} s, load {report.load()}, CPU steal {stolen:.0f} ms)"
        print(f"\n{report.table(title, rows)}", flush=True)
    return EXIT_OK
