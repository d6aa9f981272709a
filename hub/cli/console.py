"""``consumer-hub status`` and ``consumer-hub top``: the per-consumer table, once or live.

Runs on the main thread of a short-lived command (blocking HTTP with a timeout, no reactor).
Both read the hub's ``/status`` JSON from the config's status host and port (``--url`` to point
elsewhere) and render it with ``hub.cli.table``; ``top`` redraws every ``--interval`` seconds until
Ctrl-C (or ``--count`` frames), on the terminal's alternate screen when stdout is a terminal.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any, TextIO

import orjson

from hub.cli import statushttp
from hub.cli.table import render_status, render_top
from hub.config import HubConfig, load_config
from hub.errors import EndpointError

log = logging.getLogger(__name__)

ALT_SCREEN_ON = "\x1b[?1049h\x1b[?25l"
ALT_SCREEN_OFF = "\x1b[?25h\x1b[?1049l"
HOME_CLEAR = "\x1b[H\x1b[2J"


def add_parsers(sub: Any, parents: list[argparse.ArgumentParser] | None = None) -> None:
    """Add ``status`` and ``top`` to the ``consumer-hub`` sub-command parser."""
    parents = parents or []
    status = sub.add_parser("status", help="print the per-consumer table once", parents=parents)
    _common(status)
    status.add_argument("--json", action="store_true", help="print the raw /status JSON")
    top = sub.add_parser(
        "top", help="live per-consumer view, refreshed every second", parents=parents
    )
    _common(top)
    top.add_argument("--interval", type=float, default=1.0, help="seconds between frames")
    top.add_argument("--count", type=int, default=0, help="stop after N frames (0: never)")
    top.add_argument("--no-color", action="store_true", help="no ANSI colours")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the hub's status URL (default: from the config)")
    parser.add_argument("--timeout", type=float, default=3.0, help="HTTP timeout, seconds")
    parser.add_argument(
        "--token-file", help="the bearer token's file (default: the config's status.token_file)"
    )


def status_url(args: argparse.Namespace) -> str:
    """The /status URL: ``--url`` (a base URL, the full one or ``unix:SOCKET``), else from the
    config file."""
    if args.url:
        base: str = args.url.rstrip("/")
        if base.startswith("unix:"):
            return base
        return base if base.endswith("/status") else base + "/status"
    return config_status_url(load_config(args.config))


def status_token(args: argparse.Namespace) -> str | None:
    """The bearer token: from ``--token-file``, else (without ``--url``) the config's."""
    path = getattr(args, "token_file", None)
    if path is None and not args.url:
        path = load_config(args.config).status.token_file
    return None if path is None else statushttp.read_token(path)


def config_status_url(config: HubConfig) -> str:
    """The /status URL of the hub that ``config`` describes (``unix:SOCKET`` with a socket)."""
    if config.status.socket is not None:
        return f"unix:{config.status.socket}"
    host = config.status.host
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.status.port}/status"


def fetch_status(url: str, timeout_s: float, token: str | None = None) -> dict[str, Any]:
    """GET ``url`` and decode the JSON; raise `EndpointError` saying why it failed."""
    code, body = statushttp.get(url, timeout_s, token)
    if code == 401:
        raise EndpointError(f"{url}: 401, the token is missing or wrong (--token-file)")
    if code != 200:
        raise EndpointError(f"cannot read hub status at {url}: HTTP {code}")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise EndpointError(f"{url} did not return JSON: {exc}") from None
    if not isinstance(doc, dict) or "consumers" not in doc:
        raise EndpointError(f"{url} did not return a hub status document")
    return doc


def cmd_status(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Print the hub line and the per-consumer table once."""
    doc = fetch_status(status_url(args), args.timeout, status_token(args))
    if args.json:
        out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        out.write("\n".join(render_status(doc)) + "\n")
    return 0


def cmd_top(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Redraw the live view every ``--interval`` seconds until Ctrl-C or ``--count`` frames."""
    url, token = status_url(args), status_token(args)
    screen = out.isatty()
    color = screen and not args.no_color
    if screen:
        out.write(ALT_SCREEN_ON)
    try:
        frame = 0
        while not args.count or frame < args.count:
            started = time.monotonic()
            lines = _frame(url, args.timeout, color, token)
            out.write((HOME_CLEAR if screen else "") + "\n".join(lines) + "\n")
            out.flush()
            frame += 1
            if args.count and frame >= args.count:
                break
            time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    finally:
        if screen:
            out.write(ALT_SCREEN_OFF)
            out.flush()
    return 0


def _frame(url: str, timeout_s: float, color: bool, token: str | None) -> list[str]:
    """One screen: the view, or why the hub could not be read (top keeps trying)."""
    stamp = time.strftime("%H:%M:%S")
    try:
        doc = fetch_status(url, timeout_s, token)
    except EndpointError as exc:
        return [f"consumer-hub top  {stamp}  {url}", "", f"  {exc}"]
    return [f"consumer-hub top  {stamp}  {url}", *render_top(doc, color)]


COMMANDS = {"status": cmd_status, "top": cmd_top}
