"""kill -9 torture of the at-least-once promise, on a real hub subprocess.

Each trial starts a hub on a fresh state directory with two recorders on the same topics, "fast"
(no delay) and "slow" (a delay and a small queue, so its backlog spills to the log), sends a
burst and kills the hub with SIGKILL at a random moment of its life, counted from the
subprocess start:

- ``start``: within its first moments (before it is ready, or before its first cursor commit);
- ``backlog``: later, while "slow" still has a backlog on disk;
- ``reload``: after the first commit, a SIGHUP adds a third recorder, "added", while a
  publisher thread keeps a paced stream going; the kill comes 0-500 ms after the hub logged
  "reload applied".

The oracle, read after the kill and before the restart: what the hub received is every record of
its log (``<state_dir>/log/*.seg``, decoded with `hub.storage.records`) plus every msg_id any
recorder wrote. After a restart with the config in force at the kill, "fast" and "slow" must have
all of it, and "added" every message of it the publisher sent after the test saw "reload applied"
(by then the hub routed to "added"). Messages lost in ZeroMQ at the kill are in neither set. A
message a live window consumed before the kill stopped its batch's log write counts as received
too: the other consumers must still get it (a failure says how many missing were not logged).

Replay a run with ``TORTURE_SEED=<seed>`` (printed with every trial and in the assertion);
``TORTURE_TRIALS`` changes the number of trials (default 20).
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.storage.records import HEADER, decode_payload
from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    hub_config,
    read_records,
    recorder,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = int(os.environ.get("TORTURE_SEED") or random.SystemRandom().randrange(2**32))
TRIALS = int(os.environ.get("TORTURE_TRIALS") or 20)

TOPICS = ["org.test.torture.*"]
PREFIX = "org.test.torture."  # the SUB prefix the hub subscribes with for TOPICS
BURST = 2000  # start and backlog trials: sent at once, right after the subscription
RELOAD_BURST = 1000  # reload trials: before the SIGHUP; the stream follows
SLOW_DELAY_S = 0.001  # "slow" and "added": about 1.1 ms a message, ~2.2 s for a burst
QUEUE_SIZE = 100  # their in-memory window: the rest of their backlog is read back from disk
STREAM_BATCH, STREAM_PAUSE_S = 20, 0.01  # the reload trials' stream: ~2,000 messages a second
START_KILL_S = (0.0, 1.5)  # the hub is ready at ~0.5 s and commits first ~1 s later
BACKLOG_KILL_S = (1.5, 2.5)  # "slow" finishes the burst at ~2.7 s
HUP_AFTER_COMMIT_S = (0.0, 1.0)  # the kill falls before or after the next commit
KILL_AFTER_RELOAD_S = (0.0, 0.5)
SETTLE_S = 0.5  # the restarted hub is idle and the recorders did not grow for this long
DEADLINE_S = 60.0  # for the restarted hub to deliver everything


@dataclass
class Trial:
    """One kill: its mode and the random moments drawn for it."""

    number: int
    mode: str  # "start" | "backlog" | "reload"
    kill_at: float  # start, backlog: seconds after the subprocess start
    hup_after: float  # reload: seconds after the first commit
    kill_after: float  # reload: seconds after the test saw "reload applied"


@dataclass
class Outcome:
    """What a trial saw, for its report line and the assertion."""

    trial: Trial
    killed_at: float = 0.0  # measured, seconds after the subprocess start
    had_cursors: bool = False  # cursors.json existed when the hub died
    received: int = 0
    in_log: int = 0
    backlog_at_kill: int = 0  # received but not yet recorded by "slow"
    duplicates: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        t = self.trial
        when = f"kill at {self.killed_at:.3f} s"
        if t.mode == "reload":
            when += f" ({t.kill_after * 1000:.0f} ms after 'reload applied')"
        dups = " ".join(f"{name} {n}" for name, n in self.duplicates.items())
        verdict = "FAIL: " + "; ".join(self.problems) if self.problems else "ok"
        return (
            f"seed {SEED} trial {t.number:2d} {t.mode:7s} {when}, cursors.json "
            f"{'yes' if self.had_cursors else 'no'}, received {self.received} "
            f"(log {self.in_log}), slow backlog {self.backlog_at_kill}, duplicates {dups}: "
            f"{verdict}"
        )


class Stream(threading.Thread):
    """Publishes paced batches until stopped; remembers what it sent after ``seen`` was set."""

    def __init__(self, publisher: TestPublisher) -> None:
        super().__init__(name="torture-stream", daemon=True)
        self.publisher = publisher
        self.seen = threading.Event()  # the test saw "reload applied"
        self.done = threading.Event()
        self.after: list[str] = []

    def run(self) -> None:
        n = 0
        while not self.done.is_set():
            for _ in range(STREAM_BATCH):
                after = self.seen.is_set()  # before the send: a safe under-estimate
                msg_id = self.publisher.send(envelope("stream", n))["msg_id"]
                if after:
                    self.after.append(msg_id)
                n += 1
            time.sleep(STREAM_PAUSE_S)  # pacing, not a readiness wait

    def stop(self) -> None:
        self.done.set()
        self.join(10)


def envelope(kind: str, n: int) -> dict[str, Any]:
    return {"topic": PREFIX + kind, "msg": {"n": n}}


def plan(rng: random.Random, trials: int) -> list[Trial]:
    """About 40% start, 30% backlog and 30% reload trials, in a random order."""
    reload = round(trials * 0.3)
    start = round(trials * 0.4)
    modes = ["reload"] * reload + ["start"] * start + ["backlog"] * (trials - reload - start)
    rng.shuffle(modes)
    out = []
    for number, mode in enumerate(modes, 1):
        window = START_KILL_S if mode == "start" else BACKLOG_KILL_S
        out.append(
            Trial(
                number,
                mode,
                kill_at=rng.uniform(*window),
                hup_after=rng.uniform(*HUP_AFTER_COMMIT_S),
                kill_after=rng.uniform(*KILL_AFTER_RELOAD_S),
            )
        )
    return out


def logged_msg_ids(state_dir: Path) -> set[str]:
    """The msg_id of every whole, valid record in the log's segments (what a restart keeps:
    a segment is read up to its first torn or corrupt record, as `hub.storage.records.scan`
    does)."""
    found: set[str] = set()
    for segment in sorted((state_dir / "log").glob("*.seg")):
        data = segment.read_bytes()
        at = 0
        while at + HEADER.size <= len(data):
            size, crc, seq = HEADER.unpack_from(data, at)
            payload = data[at + HEADER.size : at + HEADER.size + size]
            if len(payload) < size or zlib.crc32(payload) != crc:
                break
            found.add(orjson.loads(decode_payload(seq, payload).envelope)["msg_id"])
            at += HEADER.size + size
    return found


def recorded(path: Path) -> list[str]:
    return [r["msg_id"] for r in read_records(path)]


def trim_partial_line(path: Path) -> None:
    """Cut a line the kill left half-written, so the restarted recorder starts a fresh one."""
    if path.exists():
        data = path.read_bytes()
        os.truncate(path, data.rfind(b"\n") + 1)


def subscribed_or_dead(publisher: TestPublisher, hub: HubProcess) -> bool:
    """Wait for the hub's subscription; False if it was killed first."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            publisher.wait_subscribed([PREFIX], timeout=0.05)
            return True
        except AssertionError:
            assert hub.proc is not None
            if hub.proc.poll() is not None:
                return False
    raise AssertionError(f"the hub never subscribed:\n{hub.log_text()}")


def idle(status: dict[str, Any]) -> bool:
    """Every consumer running with nothing queued, in hand or on disk."""
    return all(
        c["state"] == "running"
        and c["backlog"] == 0
        and c["backlog_disk"] == 0
        and all(w["state"] == "idle" for w in c["workers"])
        for c in status["consumers"].values()
    )


def settle(hub: HubProcess, files: dict[str, Path], required: dict[str, set[str]]) -> None:
    """Wait until every consumer has its required messages, or the hub has nothing left to do
    (idle, the recorders unchanged for SETTLE_S): the caller then reports what is missing."""
    quiet: list[Any] = [None, 0.0]  # the record counts when the hub was last seen idle, since

    def done() -> bool:
        ids = {name: recorded(path) for name, path in files.items()}
        if all(required[name] <= set(got) for name, got in ids.items()):
            return True
        counts = tuple(len(got) for got in ids.values())
        if not idle(hub.status()):
            quiet[0] = None
            return False
        if quiet[0] != counts:
            quiet[:] = [counts, time.monotonic()]
            return False
        return time.monotonic() - quiet[1] >= SETTLE_S

    wait_until(done, DEADLINE_S, "the restarted hub to deliver or settle")


def run_trial(tmp_path: Path, hubs: list[HubProcess], trial: Trial) -> Outcome:
    """Start, feed, kill -9, read the oracle, restart, check: one trial."""
    out = Outcome(trial)
    base = tmp_path / f"trial-{trial.number:02d}"
    base.mkdir()
    state = base / "state"
    files = {name: base / f"{name}.jsonl" for name in ("fast", "slow")}
    publisher = TestPublisher()
    try:
        consumers: dict[str, Any] = {
            "fast": recorder(files["fast"], TOPICS),
            "slow": dict(
                recorder(files["slow"], TOPICS, delay_s=SLOW_DELAY_S), queue_size=QUEUE_SIZE
            ),
        }
        config = hub_config(publisher.endpoint, consumers, state_dir=str(state))
        hub = HubProcess(base, config)
        stream: Stream | None = None
        t0 = time.monotonic()
        hubs.append(hub.start(wait_ready=False))
        assert hub.proc is not None
        if trial.mode == "reload":
            assert subscribed_or_dead(publisher, hub)
            for n in range(RELOAD_BURST):
                publisher.send(envelope("burst", n))
            hub.wait_for_log("hub ready")  # a SIGHUP before it is ignored
            wait_until((state / "cursors.json").exists, 20, "the first cursor commit")
            time.sleep(trial.hup_after)  # a random moment, not a readiness wait
            files["added"] = base / "added.jsonl"
            added = recorder(files["added"], TOPICS, delay_s=SLOW_DELAY_S)
            consumers["added"] = dict(added, queue_size=QUEUE_SIZE)
            stream = Stream(publisher)
            stream.start()
            hub.write_config()  # the new config is the file on disk from here on
            hub.signal(signal.SIGHUP)
            hub.wait_for_log("reload applied from")
            stream.seen.set()
            time.sleep(trial.kill_after)  # the point of the test: a random kill moment
            hub.proc.kill()
            out.killed_at = time.monotonic() - t0
        else:
            killed = threading.Event()

            def kill() -> None:
                time.sleep(max(0.0, trial.kill_at - (time.monotonic() - t0)))
                assert hub.proc is not None
                hub.proc.kill()
                out.killed_at = time.monotonic() - t0
                killed.set()

            killer = threading.Thread(target=kill, name="torture-kill", daemon=True)
            killer.start()
            if subscribed_or_dead(publisher, hub):
                for n in range(BURST):
                    publisher.send(envelope("burst", n))
            killer.join(30)
            assert killed.is_set()
        hub.wait(10)
        if stream is not None:
            stream.stop()
        out.had_cursors = (state / "cursors.json").exists()

        # the oracle: what the dead hub had received
        for path in files.values():
            trim_partial_line(path)
        first_run = {name: recorded(path) for name, path in files.items()}
        in_log = logged_msg_ids(state)
        received = in_log.union(*first_run.values())
        out.received, out.in_log = len(received), len(in_log)
        out.backlog_at_kill = len(received - set(first_run["slow"]))
        required = {name: received for name in files}
        if stream is not None:
            required["added"] = received & set(stream.after)

        again = HubProcess(base, config)  # the same file: the config in force at the kill
        hubs.append(again.start())
        settle(again, files, required)
        code = again.stop()
        if code != 0:
            out.problems.append(f"the restarted hub exited with {code}")
        for name, path in files.items():
            got = recorded(path)
            out.duplicates[name] = len(got) - len(set(got))
            missing = required[name] - set(got)
            if missing:
                unlogged = len(missing - in_log)
                out.problems.append(
                    f"{name} missing {len(missing):,} of {len(required[name]):,} messages"
                    + (f" ({unlogged} of them not in the log)" if unlogged else "")
                )
    finally:
        for started in hubs:
            started.kill()
        publisher.close()
    return out


@pytest.mark.timeout(60 + 20 * TRIALS)
def test_kill_9_at_random_moments_never_loses_a_received_message(
    tmp_path: Path, hubs: list[HubProcess]
) -> None:
    """kill -9 anywhere in a hub's life (start, backlog, reload) loses no received message."""
    rng = random.Random(SEED)
    print(f"\nkill -9 torture: TORTURE_SEED={SEED}, {TRIALS} trials")
    outcomes = []
    for trial in plan(rng, TRIALS):
        outcome = run_trial(tmp_path, hubs, trial)
        print(outcome.line(), flush=True)
        outcomes.append(outcome)
    summary = []
    for name in ("fast", "slow", "added"):
        dups = [o.duplicates[name] for o in outcomes if name in o.duplicates]
        if dups:
            summary.append(f"{name} max {max(dups)} median {statistics.median(dups):g}")
    print(f"duplicates per trial (deliveries minus distinct): {'; '.join(summary)}")
    failed = [o for o in outcomes if o.problems]
    report = "\n".join(o.line() for o in failed)
    assert not failed, (
        f"TORTURE_SEED={SEED}: {len(failed)} of {TRIALS} trials lost messages:\n{report}"
    )
