"""A collectd python plugin: reads consumer-hub's /status and dispatches its figures.

Runs inside collectd's embedded Python interpreter (the system's python3), on collectd's read
threads: collectd calls `read` once per ``Interval``. Standard library only, so nothing has to be
installed into the system Python. Outside collectd (``python3 consumer_hub_collectd.py URL``) it
prints the values as collectd exec-plugin PUTVAL lines, to check what would be dispatched.

collectd python plugins register their callbacks when collectd imports them; that registration
(at the bottom) is the only thing done at import, and only when the ``collectd`` module exists.

Identifiers (see README.md beside this file): plugin ``consumer_hub`` (``Plugin`` option),
plugin instance = the consumer's name ("" for hub-wide figures), collectd's own types:
queue_length (backlog), duration (oldest age), latency (queue wait, end-to-end latency),
response_time (consume duration), derive (counters), count (workers by state), uptime, memory,
file_handles, total_time_in_ms (input paused). Timings are seconds.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import sys
import urllib.parse
from typing import Any

try:
    import collectd  # type: ignore[import-not-found]  # only inside collectd
except ImportError:
    collectd = None

Value = tuple[str, str, str, float]  # plugin instance, type, type instance, value
QUANTILES = ("p50", "p90", "p99", "max")
TIMINGS = (("queue_wait_s", "latency", "queue_wait"), ("duration_s", "response_time", "duration"),
           ("latency_s", "latency", "end_to_end"))  # fmt: skip
CONSUMER_COUNTERS = ("enqueued", "done", "failed", "halted", "retries", "worker_restarts",
                     "read_back")  # fmt: skip
HUB_COUNTERS = ("received", "unmatched", "input_pauses", "upstream_gaps", "disk_full_pauses",
                "log_write_errors", "log_sync_errors", "log_rotate_errors",
                "cursor_commit_errors")  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

settings: dict[str, Any] = {"url": "http://127.0.0.1:9942/status", "timeout": 5.0,
                            "plugin": "consumer_hub", "socket": None, "token": None}  # fmt: skip


class UnixConnection(http.client.HTTPConnection):
    """HTTP over the hub's unix socket (``Socket``: status.socket)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def safe(text: str) -> str:
    """``text`` usable in a collectd identifier (no '/', no spaces)."""
    return _UNSAFE.sub("_", text) or "_"


def hub_values(hub: dict[str, Any]) -> list[Value]:
    """The hub-wide figures, under plugin instance ""."""
    out: list[Value] = [("", "derive", name, int(hub.get(name, 0))) for name in HUB_COUNTERS]
    for cause, count in sorted((hub.get("decode_errors") or {}).items()):
        out.append(("", "derive", f"decode_errors-{safe(cause)}", int(count)))
    out += [
        ("", "total_time_in_ms", "input_paused", int(hub.get("input_paused_s", 0) * 1000)),
        ("", "queue_length", "backlog", hub.get("backlog", 0)),
        ("", "bytes", "log", hub.get("log_bytes", 0)),
        ("", "bytes", "log_max", hub.get("log_max_bytes", 0)),
        ("", "gauge", "input_connected", float(bool(hub.get("input_connected")))),
        ("", "gauge", "input_paused", float(bool(hub.get("input_paused")))),
        ("", "uptime", "", hub.get("uptime_s", 0.0)),
        ("", "memory", "rss", hub.get("rss_bytes")),
        ("", "file_handles", "open", hub.get("open_fds")),
    ]
    return [value for value in out if value[3] is not None]  # None: the hub could not read it


def consumer_values(name: str, doc: dict[str, Any]) -> list[Value]:
    """One consumer's figures, under plugin instance = its name."""
    pi = safe(name)
    out: list[Value] = [(pi, "queue_length", "backlog", doc.get("backlog", 0))]
    for key in ("backlog_memory", "backlog_disk"):
        if key in doc:
            out.append((pi, "queue_length", key, doc[key]))
    out.append((pi, "duration", "oldest_age", doc.get("oldest_age_s", 0.0)))
    out.append((pi, "gauge", "dead_letters", doc.get("dead_letters", 0)))
    out += [(pi, "derive", key, int(doc.get(key, 0))) for key in CONSUMER_COUNTERS]
    for cause, count in sorted((doc.get("dropped") or {}).items()):
        out.append((pi, "derive", f"dropped-{safe(cause)}", int(count)))
    for event, count in sorted((doc.get("counters") or {}).items()):  # the plugin's own
        out.append((pi, "derive", f"events-{safe(event)}", int(count)))
    for key, ctype, label in TIMINGS:
        window = doc.get(key) or {}
        for q in QUANTILES:
            if window.get(q) is not None:
                out.append((pi, ctype, f"{label}-{q}", window[q]))
    workers = doc.get("workers") or []
    for state in ("idle", "busy", "stuck"):
        count = sum(1 for w in workers if w.get("state") == state)
        out.append((pi, "count", f"workers-{state}", count))
    return out


def values_from_status(doc: dict[str, Any]) -> list[Value]:
    """Every value to dispatch for one /status document."""
    out = hub_values(doc.get("hub") or {})
    for name, consumer in sorted((doc.get("consumers") or {}).items()):
        out += consumer_values(name, consumer)
    return out


def fetch(
    url: str, timeout: float, token: str | None = None, socket_path: str | None = None
) -> dict[str, Any]:
    """GET ``url`` (over the unix socket ``socket_path`` if given, with the bearer ``token``)."""
    parts = urllib.parse.urlsplit(url)
    if socket_path:
        conn: http.client.HTTPConnection = UnixConnection(socket_path, timeout)
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/status",
                     headers={"Authorization": f"Bearer {token}"} if token else {})  # fmt: skip
        response = conn.getresponse()
        body = response.read()
    except http.client.HTTPException as exc:
        raise OSError(str(exc)) from None
    finally:
        conn.close()
    if response.status != 200:
        raise OSError(f"HTTP {response.status} {response.reason}")
    return json.loads(body)  # type: ignore[no-any-return]


def read_token(path: str) -> str:
    """The bearer token in ``path`` (status.token_file), read once when collectd configures."""
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def configure(config: Any) -> None:
    """collectd config callback: URL, Timeout, Plugin, Socket, TokenFile."""
    for node in config.children:
        key = node.key.lower()
        if key in ("url", "plugin", "socket"):
            settings[key] = str(node.values[0])
        elif key == "timeout":
            settings["timeout"] = float(node.values[0])
        elif key == "tokenfile":
            settings["token"] = read_token(str(node.values[0]))
        else:
            collectd.warning(f"consumer_hub: unknown option {node.key!r}")


def read() -> None:
    """collectd read callback: fetch /status once and dispatch every value."""
    try:
        doc = fetch(settings["url"], settings["timeout"], settings["token"], settings["socket"])
    except (OSError, ValueError) as exc:
        collectd.warning(f"consumer_hub: cannot read {settings['url']}: {exc}")
        return
    for instance, ctype, type_instance, value in values_from_status(doc):
        collectd.Values(
            plugin=settings["plugin"],
            plugin_instance=instance,
            type=ctype,
            type_instance=type_instance,
            values=[value],
        ).dispatch()


def putval_lines(doc: dict[str, Any], host: str, interval: float) -> list[str]:
    """The same values as collectd exec-plugin PUTVAL lines (for checking by hand)."""
    lines = []
    for instance, ctype, type_instance, value in values_from_status(doc):
        plugin = settings["plugin"] + (f"-{instance}" if instance else "")
        kind = ctype + (f"-{type_instance}" if type_instance else "")
        lines.append(f'PUTVAL "{host}/{plugin}/{kind}" interval={interval:g} N:{value}')
    return lines


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else settings["url"]
    print("\n".join(putval_lines(fetch(url, settings["timeout"]), "localhost", 10)))
    return 0


if collectd is not None:
    collectd.register_config(configure)
    collectd.register_read(read)
elif __name__ == "__main__":
    sys.exit(main(sys.argv))
