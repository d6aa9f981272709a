"""The shutdown deadline: stop what is still draining, then give up on stuck threads.

Runs on the reactor thread, scheduled by `hub.service.HubService` with ``callLater``. Nothing is
dropped here: what a consumer has not finished stays in the durable log and its cursor (committed
once every consumer stopped) points at it, so the next start delivers it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hub.snapshot import backlog_of

if TYPE_CHECKING:
    from hub.service import HubService

log = logging.getLogger(__name__)

ABANDON_AFTER_S = 2.0  # after the deadline: how long to wait for threads still in consume()


def at_deadline(service: HubService) -> None:
    """Stop every consumer still draining after the message in hand."""
    end = service.durable.store.next_seq
    for name, runtime in service.consumers.items():
        if service.when_stopped(name).called:
            continue
        runtime.workers.abort()
        service.supervisor.restart_now(name)
        left = backlog_of(runtime, end)
        log.warning("consumer %s: shutdown deadline (%.0f s) reached; %d message(s) stay in "
                    "the backlog for the next start", name, service.config.shutdown_timeout_s,
                    left)  # fmt: skip
    service.reactor.callLater(ABANDON_AFTER_S, abandon, service)


def abandon(service: HubService) -> None:
    """Stop waiting for threads still in consume(); their message is delivered again."""
    for name, runtime in service.consumers.items():
        stopped = service.when_stopped(name)
        if stopped.called:
            continue
        for b in (b for b in runtime.workers.busy if b is not None):
            log.error("consumer %s: still in consume() of %s (msg_id %s) at exit; teardown() "
                      "skipped; it is delivered again on the next start", name, b.topic,
                      b.msg_id)  # fmt: skip
        runtime.state = "abandoned"
        stopped.callback(name)
