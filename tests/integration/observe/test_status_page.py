"""The status page (``/``) of a running hub, in headless Chromium and as plain HTML: a slow
consumer builds a backlog, the page shows what /status shows, its chart rises and falls, and
its event stream comes back after the hub restarts on the same port."""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.browser import Chromium, png_colours, require_chromium
from tests.integration.harness import REPO, HubProcess, TestPublisher, hub_config, wait_until
from tests.integration.servers.rabbitmq import free_port

pytestmark = pytest.mark.integration

ROW = re.compile(r'<tr class="consumer[^"]*" data-name="([^"]+)">.*?<td class="backlog">(\d+)</td>')


def _config(tmp_path: Path, publisher: TestPublisher, port: int) -> dict[str, Any]:
    control = tmp_path / "control"
    _speed(control, 0.2)
    consumers = {
        "slow": {"class": "tests.plugins:Throttled", "config": {"control": str(control)}},
        "quick": {"class": "tests.plugins:Nothing"},
    }
    config = hub_config(publisher.endpoint, consumers)
    config["status"]["port"] = port
    return config


def _speed(control: Path, seconds: float) -> None:
    """The slow consumer's seconds per message from now on (the file swapped whole)."""
    control.with_suffix(".new").write_text(str(seconds))
    control.with_suffix(".new").replace(control)


def _frozen(hub: HubProcess, control: Path) -> dict[str, Any]:
    """Stop the slow consumer in its tracks; the /status once its backlog no longer moves."""
    _speed(control, 3600)
    last: list[int] = []

    def still() -> dict[str, Any] | None:
        doc = hub.status()
        last.append(doc["consumers"]["slow"]["backlog"])
        return doc if len(last) > 60 and len(set(last[-60:])) == 1 else None

    return wait_until(still, 30, "the slow consumer's backlog to hold still")  # type: ignore[no-any-return]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    """Headless Chromium (skips naming the package when it is missing)."""
    chromium = Chromium(require_chromium(), tmp_path / "chromium-profile")
    yield chromium
    chromium.close()


def test_page_without_javascript_is_the_same_table(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """``/`` fetched with urllib is an HTML table with /status's rows, largest backlog first."""
    hub = HubProcess(tmp_path, _config(tmp_path, publisher, 0))
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    for n in range(20):
        publisher.send({"topic": "org.test.x", "msg": {"n": n}})
    wait_until(lambda: hub.status()["hub"]["received"] == 20, what="20 messages received")
    doc = _frozen(hub, tmp_path / "control")
    with urllib.request.urlopen(hub.status_url + "/", timeout=5) as response:  # type: ignore[operator]
        html = response.read().decode()
    rows = ROW.findall(html)
    assert rows == [("slow", str(doc["consumers"]["slow"]["backlog"])), ("quick", "0")]
    assert int(rows[0][1]) > 0 and "<svg" in html and '<table id="rows">' in html
    _speed(tmp_path / "control", 0)


def _last_backlog(browser: Chromium) -> float:
    return float(browser.evaluate("window.hubEvent.history.consumers.slow.backlog.fine.at(-1)"))


def _page_row(browser: Chromium) -> dict[str, str]:
    cells = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('tr[data-name=slow] td')]"
        ".map(td => [td.className, td.textContent]))"
    )
    return dict(cells)


def test_page_in_chromium_follows_the_backlog_and_comes_back_after_a_restart(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], browser: Chromium
) -> None:
    """The page equals /status, its chart rises and falls, it reconnects after a restart."""
    config = _config(tmp_path, publisher, free_port())
    config["consumers"]["picky"] = {"class": "tests.plugins:Rejecter"}
    control = tmp_path / "control"
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    rejected = publisher.send({"topic": "org.test.bad", "msg": {}})
    assert hub.status_url
    browser.open(hub.status_url + "/")
    wait_until(lambda: browser.evaluate("Boolean(window.hubEvent)"), 20, "the first event")
    _rise(browser, publisher)
    doc = _frozen(hub, control)
    _check_same_as_status(browser, hub, doc)
    _speed(control, 0)
    wait_until(lambda: _last_backlog(browser) == 0, 60, "the backlog chart to fall to 0")
    fine = browser.evaluate("window.hubEvent.history.consumers.slow.backlog.fine")
    assert max(fine) >= doc["consumers"]["slow"]["backlog"]
    _check_screenshot(tmp_path, browser)  # the chart's rise, plateau and fall
    assert hub.stop() == 0
    wait_until(lambda: browser.evaluate("!document.getElementById('banner').hidden"), 15,
               "the unreachable banner")  # fmt: skip
    restarted = time.time()
    hubs.append(HubProcess(tmp_path, config, name="again").start())
    wait_until(lambda: browser.evaluate("document.getElementById('banner').hidden") and
               float(browser.evaluate("document.body.dataset.snapshotAt")) > restarted, 20,
               "the page to reconnect to the restarted hub")  # fmt: skip
    _check_detail(browser, rejected)


def _rise(browser: Chromium, publisher: TestPublisher) -> None:
    """Publish faster than the slow consumer works until the chart's last point rose 5 times."""
    seen = [_last_backlog(browser)]

    def rising() -> bool:
        publisher.send({"topic": "org.test.x", "msg": {}})  # 50/s in, 5/s out
        if _last_backlog(browser) > seen[-1]:
            seen.append(_last_backlog(browser))
        return len(seen) > 5

    wait_until(rising, 30, "the backlog chart's last point to rise")


def _check_same_as_status(browser: Chromium, hub: HubProcess, doc: dict[str, Any]) -> None:
    """With the backlog held still, the page's row and order are /status's."""
    wait_until(lambda: _last_backlog(browser) == doc["consumers"]["slow"]["backlog"], 10,
               "the page to show the frozen backlog")  # fmt: skip
    row, status = _page_row(browser), hub.status()["consumers"]["slow"]
    assert row["backlog"] == str(status["backlog"]) and row["failed"] == str(status["failed"])
    assert row["dead_letters"] == str(status["dead_letters"]) and row["name"] == "slow"
    names = "[...document.querySelectorAll('#rows tbody tr')].map(r => r.dataset.name)"
    assert browser.evaluate(names) == ["slow", "picky", "quick"]
    shown_at = browser.evaluate("document.body.dataset.snapshotAt")
    assert shown_at == browser.evaluate("window.hubEvent.at.toFixed(6)")


def _check_detail(browser: Chromium, rejected: dict[str, Any]) -> None:
    """Clicking a consumer opens its detail: larger charts, an hour's, its dead letters, live."""
    browser.evaluate("document.querySelector('a[href=\"/?consumer=picky\"]').click()")
    opened = "location.search == '?consumer=picky' && document.readyState == 'complete'"
    wait_until(lambda: browser.evaluate(opened), 20, "the detail page")
    text = browser.evaluate("document.body.innerText")
    assert "Last hour" in text and rejected["msg_id"] in text and "org.test.bad" in text
    assert browser.evaluate("document.querySelector('svg.chart').getAttribute('width')") == "900"
    shown = float(browser.evaluate("document.body.dataset.snapshotAt"))
    wait_until(lambda: float(browser.evaluate("document.body.dataset.snapshotAt")) > shown, 10,
               "the detail to update live")  # fmt: skip
    assert browser.evaluate("[...document.querySelectorAll('#rows tbody tr')].length") == 1


def _check_screenshot(tmp_path: Path, browser: Chromium) -> None:
    """A screenshot kept under the test's tmp dir (and docs/ with UPDATE_SCREENSHOT=1), not
    blank: the backlog chart has a drawn path and its part of the picture many colours."""
    d = browser.evaluate(
        "document.querySelector('.charts[data-name=slow] path.backlog').getAttribute('d')"
    )
    assert d.count("L") >= 4
    shot = tmp_path / "status-page.png"
    png = browser.screenshot(shot)
    print(f"screenshot: {shot}")
    box = browser.evaluate(
        "(b => ({x: b.x, y: b.y, width: b.width, height: b.height}))"
        "(document.querySelector('.charts[data-name=slow]').getBoundingClientRect())"
    )
    assert png_colours(browser.screenshot(tmp_path / "chart.png", clip=box)) > 8
    assert len(png) > 10_000
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, REPO / "docs" / "status-page.png")
