"""hub.cli.console: where ``status``/``top`` read from, and what they print or report on failure."""

from __future__ import annotations

import argparse
import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from hub.cli.console import cmd_status, cmd_top, config_status_url, fetch_status, status_url
from hub.config import config_from_dict
from hub.errors import EndpointError
from tests.unit.snapshots import snapshot


@pytest.fixture
def server() -> Iterator[str]:
    """A loopback HTTP server on an ephemeral port answering /status with SNAPSHOT."""
    body = json.dumps(snapshot()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = 200 if self.path == "/status" else 404
            self.send_response(code)
            self.end_headers()
            self.wfile.write(body if code == 200 else b"no")

        def log_message(self, *args: object) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _args(**kwargs: object) -> argparse.Namespace:
    base = {"url": None, "timeout": 2.0, "json": False, "config": Path("/nonexistent"),
            "interval": 0.01, "count": 2, "no_color": False}  # fmt: skip
    return argparse.Namespace(**{**base, **kwargs})


def test_url_comes_from_the_config_or_the_flag() -> None:
    """The config's status host/port, a wildcard host read as loopback, --url as base or full."""
    config = config_from_dict({"endpoints": ["tcp://x:1"], "status": {"port": 9000}})
    assert config_status_url(config) == "http://127.0.0.1:9000/status"
    config = config_from_dict({"endpoints": ["tcp://x:1"], "status": {"host": "0.0.0.0"}})
    assert config_status_url(config) == "http://127.0.0.1:9942/status"
    assert status_url(_args(url="http://h:1/")) == "http://h:1/status"
    assert status_url(_args(url="http://h:1/status")) == "http://h:1/status"


def test_status_prints_the_table(server: str) -> None:
    """`status --url` prints the hub line and one row per consumer."""
    out = io.StringIO()
    assert cmd_status(_args(url=server), out) == 0
    text = out.getvalue()
    assert text.startswith("hub 0.1.0 pid 42")
    assert "audit.log" in text and "busy 1/2" in text


def test_status_json_is_the_raw_document(server: str) -> None:
    """`status --json` prints /status as JSON."""
    out = io.StringIO()
    cmd_status(_args(url=server, json=True), out)
    assert json.loads(out.getvalue())["consumers"]["audit.log"]["backlog"] == 7


def test_top_draws_count_frames(server: str) -> None:
    """`top --count 2` draws two frames (plain text when not on a terminal) and returns."""
    out = io.StringIO()
    assert cmd_top(_args(url=server), out) == 0
    assert out.getvalue().count("consumer-hub top") == 2
    assert "\x1b[" not in out.getvalue()


def test_unreachable_hub_is_an_endpoint_error() -> None:
    """A closed port gives EndpointError (exit code 5) naming the URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(EndpointError, match=f"127.0.0.1:{port}") as caught:
        fetch_status(f"http://127.0.0.1:{port}/status", 2.0)
    assert caught.value.exit_code == 5


def test_a_non_status_answer_is_an_endpoint_error(server: str) -> None:
    """A page that is not a hub status document is reported, not rendered."""
    with pytest.raises(EndpointError):
        fetch_status(server + "/other", 2.0)
