"""The retry schedule: exponential backoff with jitter, capped, and a limit on attempts.

Pure functions and a frozen record; called on the consumer's worker threads
(`hub.workers.delivery`), where a waiting message's `RetryState` is made; the reactor reads it
for status.

Attempt ``n`` (1-based) that failed with an ordinary exception waits
``min(max_delay_s, initial_delay_s * 2 ** (n - 1))``, stretched or shrunk by up to ``jitter``
(a fraction, 0.2 = +-20%) so that many failing messages do not retry in lock-step. A
``hub.Retry(delay=d)`` waits ``d`` instead. Either way, after ``max_attempts`` attempts the message
becomes a dead letter. The worst case a poison message holds up the messages behind it is
`worst_case_s` (plus the time its ``consume()`` calls take).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from hub.config import RetryConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryState:
    """A message waiting for its next attempt (shown in status as ``retrying``)."""

    msg_id: str
    topic: str
    attempt: int
    next_at: float  # time.time()
    error: str
    unavailable: bool = False  # hub.Unavailable: ``attempt`` counts outages, not attempts


def backoff(config: RetryConfig, attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based)."""
    base: float = min(config.max_delay_s, config.initial_delay_s * 2 ** (attempt - 1))
    spread = base * config.jitter
    return max(0.0, base - spread + 2 * spread * rand())


def delay_after(config: RetryConfig, attempt: int, requested: float | None) -> float:
    """The wait after attempt ``attempt``: the consumer's own ``Retry`` delay, else backoff."""
    if requested is not None:
        return max(0.0, requested)
    return backoff(config, attempt)


def worst_case_s(config: RetryConfig) -> float:
    """The longest a message can wait between its first and last attempt (with max jitter)."""
    return config.worst_case_s()
