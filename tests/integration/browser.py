"""Headless Chromium driven over its DevTools protocol, for the status page's tests.

Runs in the pytest process: Chromium is a subprocess (``--headless=new``, its own profile under
the test's tmp dir, DevTools on a port it picks and prints on stderr); one websocket to its
page target carries ``Runtime.evaluate``, ``Page.navigate`` and ``Page.captureScreenshot``.
Without Debian's ``chromium`` the test skips with one line naming the package (fails under
CI=true: ``.ci/system-packages`` installs it). Also a small PNG reader, to count colours.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import struct
import subprocess
import threading
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.integration.harness import wait_until
from tests.integration.servers.rabbitmq import in_ci

PACKAGE = "chromium"


def require_chromium() -> str:
    """The chromium binary; else skip with one line naming the package (fail under CI=true)."""
    found = shutil.which("chromium")
    if found is None:
        if in_ci():
            pytest.fail(f"{PACKAGE} is not installed (.ci/run installs it)")
        pytest.skip(f"{PACKAGE} is not installed: apt-get install {PACKAGE}")
    return found


class Chromium:
    """One headless browser with one page."""

    def __init__(self, binary: str, profile: Path) -> None:
        import websocket  # the test extra: websocket-client

        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-allow-origins=*",
             "--window-size=1280,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()
        port = wait_until(self._port, 30, "DevTools listening on ws://")
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list").read())
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.ids = 0

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def _port(self) -> int | None:
        if self.proc.poll() is not None:
            raise AssertionError("chromium exited:\n" + "".join(self.lines))
        for line in list(self.lines):
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                return int(found.group(1))
        return None

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command; its result (events in between are skipped)."""
        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self.ids:
                if "error" in answer:
                    raise AssertionError(f"{method}: {answer['error']}")
                return answer["result"]  # type: ignore[no-any-return]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        """Load ``url`` and wait until the document is complete."""
        self.call("Page.navigate", url=url)
        wait_until(lambda: self.evaluate("document.readyState") == "complete", 20, "page load")

    def screenshot(self, path: Path, clip: dict[str, float] | None = None) -> bytes:
        """A PNG of the page (or of ``clip``), written to ``path``; its bytes."""
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params["clip"] = {**clip, "scale": 1}
        png = base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])
        path.write_bytes(png)
        return png

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(20)


def png_colours(png: bytes) -> int:
    """How many distinct colours an 8-bit RGB/RGBA PNG (as Chromium writes them) has."""
    pos, idat, header = 8, b"", b""
    while pos < len(png):
        size, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + size]
        header = data if kind == b"IHDR" else header
        idat += data if kind == b"IDAT" else b""
        pos += 12 + size
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    previous, colours = bytearray(stride), set()
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        _unfilter(kind, line, previous, bpp)
        colours.update(bytes(line[i : i + bpp]) for i in range(0, stride, bpp))
        previous = line
    return len(colours)


def _unfilter(kind: int, line: bytearray, up: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        corner = up[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up[i]) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up[i]) // 2) & 0xFF
        elif kind == 4:
            p = left + up[i] - corner
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else up[i] if pb <= pc else corner
            line[i] = (line[i] + pred) & 0xFF
