"""Figures, ratios and the printed report. Runs in the bench process's main thread; pure."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Row:
    """One line of the report: a hub figure, the baseline's, their ratio and the target."""

    figure: str
    value: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None


def percentile(sorted_values: Sequence[int], fraction: float) -> int:
    """Nearest-rank percentile of already sorted values (``fraction`` in 0..1)."""
    if not sorted_values:
        return 0
    rank = max(1, round(fraction * len(sorted_values) + 0.5 - 1e-9))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def rate(value: float, unit: str = "msg/s") -> str:
    """``12,345 msg/s``."""
    return f"{value:,.0f} {unit}"


def spread(values: Sequence[float], fmt: str = "{:.2f}x") -> str:
    """``lo-hi`` of a figure over the rounds (one value when there was one round), and the
    median from three rounds on."""
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    if lo == hi:
        return lo
    middle = f" (median {fmt.format(statistics.median(values))})" if len(values) >= 3 else ""
    return f"{lo}-{hi}{middle}"


def micros(nanoseconds: float) -> str:
    """``123 µs`` / ``1.23 ms``."""
    if nanoseconds >= 10_000_000:
        return f"{nanoseconds / 1e6:,.1f} ms"
    if nanoseconds >= 1_000_000:
        return f"{nanoseconds / 1e6:.2f} ms"
    if nanoseconds >= 100_000:
        return f"{nanoseconds / 1e3:,.0f} µs"
    return f"{nanoseconds / 1e3:.1f} µs"


def megabytes(nbytes: float) -> str:
    """``123.4 MB`` (MiB)."""
    return f"{nbytes / MB:,.1f} MB"


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's guess)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> str:
    """The 1/5/15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def steal_ms() -> float:
    """CPU time the hypervisor gave to other guests since boot, all CPUs (``/proc/stat``'s
    ``steal``), in ms; 0 where it is not known. A run during which it grows was disturbed."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
        return int(fields[8]) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_header(argv: Sequence[str]) -> str:
    """Markdown lines naming the command, date, machine and load."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = shlex.join(["python", "-m", "bench", *argv])
    return (
        f"- command: `{command}`\n"
        f"- date: {now}\n"
        f"- machine: nproc {os.cpu_count()}, {cpu_model()}, "
        f"Python {sys.version.split()[0]} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}\n"
        f"- load average at start: {load()}"
    )


def table(title: str, rows: Sequence[Row]) -> str:
    """A markdown table for one section."""
    lines = [
        f"### {title}",
        "",
        "| figure | hub | baseline | ratio | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
        verdict = {True: "meets", False: "**misses**", None: ""}[row.met]
        lines.append(
            f"| {row.figure} | {row.value} | {row.baseline} | {ratio} | {row.target} | {verdict} |"
        )
    return "\n".join(lines) + "\n"
