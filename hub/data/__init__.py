"""The bundled real fedmsg envelopes (``hub/data/fedmsg-samples.jsonl``).

Runs on any thread; reads a package data file, nothing else. Used by the demo publisher, the
tests and the benchmarks.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import orjson


def load_samples() -> list[dict[str, Any]]:
    """Every sample envelope, in file order."""
    text = resources.files("hub").joinpath("data/fedmsg-samples.jsonl").read_bytes()
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]
