"""hub.cli.statushttp and ``status`` through it: a unix-socket URL, the bearer token sent from
``--token-file`` or the config's status.token_file, a 401 reported as such."""

from __future__ import annotations

import argparse
import io
import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from hub.cli import statushttp
from hub.cli.console import cmd_status, config_status_url
from hub.config import config_from_dict
from hub.errors import ConfigError, EndpointError
from tests.unit.snapshots import snapshot


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def sock(tmp_path: Path) -> Iterator[str]:
    """An HTTP server on a unix socket answering /status with SNAPSHOT to 'Bearer s3cret'."""
    body = json.dumps(snapshot()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != "Bearer s3cret":
                self.send_response(401)
                self.send_header("WWW-Authenticate", "Bearer")
                self.end_headers()
                return
            code = 200 if self.path == "/status" else 404
            self.send_response(code)
            self.end_headers()
            self.wfile.write(body if code == 200 else self.path.encode())

        def address_string(self) -> str:
            return "unix"

        def log_message(self, *args: object) -> None:
            pass

    path = str(tmp_path / "status.sock")
    httpd = _UnixHTTPServer(path, Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield path
    httpd.shutdown()
    httpd.server_close()


def _token(tmp_path: Path, text: str = "s3cret\n") -> str:
    path = tmp_path / "token"
    path.write_text(text)
    return str(path)


def _args(**kwargs: object) -> argparse.Namespace:
    base = {"url": None, "timeout": 2.0, "json": True, "config": Path("/nonexistent"),
            "token_file": None}  # fmt: skip
    return argparse.Namespace(**{**base, **kwargs})


def test_get_over_a_unix_socket_with_the_token(sock: str) -> None:
    """unix:SOCKET asks for /status; unix:SOCKET:/path for that path; the token is sent."""
    code, body = statushttp.get(f"unix:{sock}", 2.0, "s3cret")
    assert code == 200 and b"consumers" in body
    assert statushttp.get(f"unix:{sock}:/metrics", 2.0, "s3cret") == (404, b"/metrics")
    assert statushttp.get(f"unix:{sock}", 2.0)[0] == 401


def test_status_reads_through_the_socket_with_the_token_file(sock: str, tmp_path: Path) -> None:
    """`status --url unix:SOCKET --token-file F --json` prints the document."""
    out = io.StringIO()
    assert cmd_status(_args(url=f"unix:{sock}", token_file=_token(tmp_path)), out) == 0
    assert json.loads(out.getvalue())["consumers"]["audit.log"]["backlog"] == 7


def test_status_takes_the_socket_and_token_from_the_config(sock: str, tmp_path: Path) -> None:
    """Without --url: the config's status.socket and status.token_file."""
    config = tmp_path / "hub.yaml"
    status = {"socket": sock, "token_file": _token(tmp_path)}
    config.write_text(json.dumps({"endpoints": ["tcp://x:1"], "status": status}))
    out = io.StringIO()
    assert cmd_status(_args(config=config), out) == 0
    assert "audit.log" in out.getvalue()
    assert (
        config_status_url(config_from_dict({"endpoints": ["tcp://x:1"], "status": status}))
        == f"unix:{sock}"
    )


def test_a_wrong_token_is_reported_as_401(sock: str, tmp_path: Path) -> None:
    """A wrong token: EndpointError naming 401 and --token-file; no such file: ConfigError."""
    with pytest.raises(EndpointError, match=r"401.*--token-file"):
        cmd_status(_args(url=f"unix:{sock}", token_file=_token(tmp_path, "nope")), io.StringIO())
    with pytest.raises(ConfigError, match="absent"):
        cmd_status(_args(url=f"unix:{sock}", token_file=str(tmp_path / "absent")), io.StringIO())


def test_an_unreachable_socket_is_an_endpoint_error(tmp_path: Path) -> None:
    """No one listening on the socket: EndpointError naming the URL."""
    with pytest.raises(EndpointError, match="unix:"):
        statushttp.get(f"unix:{tmp_path / 'none.sock'}", 1.0)
