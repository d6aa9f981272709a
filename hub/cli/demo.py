"""The demo publisher behind ``make run``: replays the bundled real messages, forever.

Runs on its own named thread (``demo-publisher``) with its own PUB socket, so the hub under
demonstration receives over a real ZeroMQ connection exactly as it would in production. Each
replayed envelope keeps its topic and body and gets a fresh timestamp and msg_id, and an ``i``
counted per publishing identity (`hub.transports.zeromq.gaps.envelope_identity`), as the many
applications that published the samples would number them: so the demo shows no false upstream gaps.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid

import orjson
import zmq

from hub.data import load_samples
from hub.transports.zeromq.gaps import envelope_identity

log = logging.getLogger(__name__)


class DemoPublisher:
    """Binds ``endpoint`` and publishes ``rate`` sample messages a second."""

    def __init__(self, endpoint: str, rate: float) -> None:
        self.context: zmq.SyncContext | None = None
        self.endpoint = endpoint
        self.rate = rate
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.context = zmq.Context()
        sock = self.context.socket(zmq.PUB)
        sock.setsockopt(zmq.LINGER, 0)
        sock.bind(self.endpoint)
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name="demo-publisher", daemon=True
        )
        self._thread.start()
        log.info("demo publisher: replaying samples at %.0f/s on %s", self.rate, self.endpoint)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self.context is not None:
            self.context.term()

    def _run(self, sock: zmq.SyncSocket) -> None:
        samples = load_samples()
        interval = 1.0 / self.rate
        try:
            counters: dict[tuple[str, str, str], int] = {}  # one `i` per emulated publisher
            for sample in itertools.cycle(samples):
                if self._stop.wait(interval):
                    break
                key = envelope_identity(sample, sample["topic"])
                counters[key] = i = counters.get(key, 0) + 1
                envelope = dict(sample, timestamp=time.time(), i=i)
                envelope["msg_id"] = f"{time.gmtime().tm_year}-{uuid.uuid4()}"
                sock.send_multipart([envelope["topic"].encode(), orjson.dumps(envelope)])
        finally:
            sock.close(linger=0)
