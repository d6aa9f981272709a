"""The hub under test: a ``consumer-hub run`` subprocess with bench consumers, and its RSS.

Runs in the bench process: ``Hub`` on the main thread, the RSS sampler on one daemon thread of
its own. The hub's stderr goes to a log file in the run's temporary directory; it is shown when
the hub fails to start or exits badly. An AMQP hub (``amqp`` given: the config's ``amqp``
block, consumers with ``source: amqp``, no ZeroMQ endpoints) is ready once its /ready answers
200: its queues declared and consumed.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import yaml

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
READY = "hub ready"
STATUS = re.compile(r"status endpoint listening on (http://\S+)")
COUNTING = "bench.consumers:CountingConsumer"
STALLED = "bench.consumers:StalledConsumer"


def prefix() -> list[str]:
    """``$BENCH_HUB_PREFIX`` split into words: a wrapper for the hub command, e.g.
    ``taskset -c 1`` (docs/benchmarks.md, round 3)."""
    return os.environ.get("BENCH_HUB_PREFIX", "").split()


def hub_command() -> list[str]:
    """``python -P -m hub`` on the running interpreter: the ``hub`` package on ``PYTHONPATH``
    (the repo's, or ``--hub-src``'s), not the installed entry point, which names one tree's
    module. ``-P``: without it ``-m`` puts the working directory (the repo) first on
    ``sys.path``, and ``--hub-src`` ran the repo's own hub (from 2026-12-01 to 2026-12-02)."""
    return [sys.executable, "-P", "-m", "hub"]


def consumer_entry(cls: str, config: dict[str, Any], queue_size: int) -> dict[str, Any]:
    """One ``consumers.<name>`` block of the hub config."""
    return {"class": cls, "threads": 1, "queue_size": queue_size, "config": config}


class RssSampler:
    """Polls a process's resident set size every ``interval`` seconds and keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self.first = 0
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def start(self) -> None:
        """Start sampling."""
        self._thread.start()

    def stop(self) -> int:
        """Stop sampling; the peak RSS in bytes."""
        self._stop.set()
        self._thread.join()
        return self.peak

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self._process.memory_info().rss
            except psutil.Error:
                return
            self.first = self.first or rss
            self.peak = max(self.peak, rss)
            self._stop.wait(self._interval)


class Hub:
    """Bench-side handle on one hub subprocess (one per measured run)."""

    RELEASE = "release"  # file in the run directory that ends a StalledConsumer's stall

    def __init__(
        self,
        directory: Path,
        consumers: dict[str, dict[str, Any]],
        profile: Path | None = None,
        hub_src: Path | None = None,
        amqp: dict[str, Any] | None = None,
    ) -> None:
        self.directory = directory
        self.amqp = amqp  # the config's amqp block: an AMQP-only hub
        self.profile = profile  # write a py-spy profile of the whole run here
        self.hub_src = hub_src  # import ``hub`` from this directory instead of the repo
        self.consumers = consumers
        self.names = [n for n, c in consumers.items() if c["class"] == COUNTING]
        self.log_path = directory / "hub.log"
        self.status_url = ""
        self.exit_code: int | None = None
        self.ready_rss = 0
        self._process: subprocess.Popen[bytes] | None = None
        self.rss: RssSampler | None = None
        self._profiler: subprocess.Popen[bytes] | None = None

    def start(self, endpoint: str) -> None:
        """Write the config, start the hub connected to ``endpoint`` (ZeroMQ; ignored by an
        AMQP hub), wait for "hub ready" (and /ready for an AMQP hub)."""
        path = self.directory / "hub.yaml"
        path.write_text(yaml.safe_dump(self.config(endpoint), sort_keys=False))
        env = {**os.environ, "PYTHONPATH": _pythonpath(self.hub_src)}
        with self.log_path.open("wb") as stderr:
            self._process = subprocess.Popen(
                [*prefix(), *hub_command(), "--config", str(path), "run"],
                stderr=stderr,
                env=env,
                cwd=REPO,
            )
        self.rss = RssSampler(self._process.pid)
        self.rss.start()
        self._wait_ready(60)
        if self.profile is not None:
            self._profiler = start_profiler(self._process.pid, self.profile)

    def config(self, endpoint: str) -> dict[str, Any]:
        """The hub's configuration."""
        config = {
            "status": {"host": "127.0.0.1", "port": 0},
            "state_dir": str(self.directory / "state"),  # the durable backlog lives here
            "consumers": self.consumers,
        }
        if self.amqp is None:
            return {"endpoints": [endpoint], **config}
        consumers = {n: dict(c, source="amqp") for n, c in self.consumers.items()}
        return {**config, "amqp": self.amqp, "consumers": consumers}

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if READY in text:
                match = STATUS.search(text)
                self.status_url = match.group(1) if match else ""
                assert self._process is not None
                if self.amqp is None or self._answers_ready(deadline):
                    self.ready_rss = psutil.Process(self._process.pid).memory_info().rss
                    return
                break
            if not self.alive():
                break
            time.sleep(0.05)
        raise RuntimeError(f"hub did not get ready; its log:\n{self.log_tail()}")

    def _answers_ready(self, deadline: float) -> bool:
        """Poll the status endpoint's /ready until it answers 200 (or the deadline passes)."""
        while time.monotonic() < deadline and self.alive():
            try:
                with urllib.request.urlopen(f"{self.status_url}/ready", timeout=5) as answer:
                    if answer.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass  # 503 (not consuming yet) raises HTTPError, an URLError
            time.sleep(0.05)
        return False

    @property
    def pid(self) -> int:
        """The hub's process id."""
        assert self._process is not None
        return self._process.pid

    def alive(self) -> bool:
        """Whether the hub process is still running."""
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (the hub drains and exits 0); SIGKILL after ``timeout`` seconds."""
        if self._process is None:
            return
        (self.directory / self.RELEASE).touch()
        if self.alive():
            self._process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("hub did not exit within %.0f s of SIGTERM; killing it", timeout)
            self._process.kill()
            self.exit_code = self._process.wait()
        if self.rss is not None:
            self.rss.stop()
        if self._profiler is not None:
            self._profiler.wait(30)  # py-spy writes its file when the hub exits
        if self.exit_code != 0:
            log.warning("hub exited with %s; log tail:\n%s", self.exit_code, self.log_tail())

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the hub's stderr."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (all its threads)."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def start_profiler(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """``py-spy record`` on ``pid`` (collapsed stacks, per thread) until the process exits."""
    py_spy = Path(sys.executable).parent / "py-spy"
    command = [str(py_spy) if py_spy.exists() else "py-spy", "record", "--pid", str(pid)]
    command += ["--rate", "200", "--nonblocking", "--threads", "--format", "raw"]
    output.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [*command, "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _pythonpath(hub_src: Path | None) -> str:
    """The repo (for ``bench.consumers``), after ``hub_src`` if given, before what was set."""
    paths = [str(p) for p in (hub_src, REPO) if p is not None]
    existing = os.environ.get("PYTHONPATH")
    return os.pathsep.join([*paths, existing] if existing else paths)
