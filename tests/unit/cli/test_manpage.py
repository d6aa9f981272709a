"""hub.cli.manpage: the committed consumer-hub(1) is what the parser builds today."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hub.cli import manpage

pytest.importorskip("argparse_manpage")


def _without_date(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(".TH ")]


def test_committed_page_matches_the_parser() -> None:
    """share/man/man1/consumer-hub.1 equals a fresh build but for its date (run `make man`)."""
    fresh = manpage.render()
    assert _without_date(manpage.PAGE.read_text()) == _without_date(fresh), "run `make man`"
    for command in ("publish", "tail", "install\\-units", "completion"):
        assert f"consumer\\-hub {command}'" in fresh, command
    assert ".SH ENVIRONMENT" in fresh and "CONSUMER_HUB_SYSLOG_IDENTIFIER" in fresh


@pytest.mark.skipif(shutil.which("man") is None, reason="no man")
def test_man_renders_the_page_without_warnings() -> None:
    """man(1) formats the page and groff reports no problem with it."""
    cmd = ["man", "--warnings", "-l", str(manpage.PAGE)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                            env={"MANWIDTH": "100", "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "consumer-hub - a message-bus consumer daemon and its tools" in result.stdout
