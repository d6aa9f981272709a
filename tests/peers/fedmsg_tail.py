"""fedmsg's own ``tail_messages()``, as a peer process: prints each message it reads as JSON.

Runs as its own process (``python -m tests.peers.fedmsg_tail TOPIC``) in a directory whose
``fedmsg.d/`` is the configuration (fedmsg reads ``./fedmsg.d`` itself), so what it accepts is
what every fedmsg subscriber accepts.
"""

from __future__ import annotations

import json
import sys

import fedmsg

if __name__ == "__main__":
    for name, endpoint, topic, msg in fedmsg.tail_messages(topic=sys.argv[1]):
        print(json.dumps({"name": name, "endpoint": endpoint, "topic": topic, "msg": msg}),
              flush=True)  # fmt: skip
