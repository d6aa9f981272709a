"""``python -m hub.cli.manpage [OUT]``: the consumer-hub(1) man page, built from the parser.

Runs on the main thread of a developer's command (``make man``), never in the hub: it needs
argparse-manpage, a ``dev`` extra. The page is committed as ``share/man/man1/consumer-hub.1``,
installed with the package (setup.cfg data_files) and by ``consumer-hub install-units``;
``tests/unit/cli/test_shipped.py`` fails when it no longer matches the parser (run ``make man``
after changing an option). The ``.TH`` line carries the build date (``$SOURCE_DATE_EPOCH``, else
today); the test compares everything else.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hub import __version__
from hub.cli.main import build_parser

PAGE = Path(__file__).resolve().parents[2] / "share" / "man" / "man1" / "consumer-hub.1"
SECTIONS = {
    "files": (
        ".TP\n/etc/consumer\\-hub/hub.yaml, /etc/consumer\\-hub/hub.d/*.yaml\n"
        "the configuration and its drop\\-ins, merged in name order\n"
        ".TP\n/etc/consumer\\-hub/NAME.yaml\nthe configuration of consumer\\-hub@NAME.service\n"
        ".TP\n/var/lib/consumer\\-hub\nthe durable backlog, cursors and dead letters "
        "($STATE_DIRECTORY under systemd)"
    ),
    "environment": (
        ".TP\nCONSUMER_HUB_CONFIG\nthe configuration file when \\-\\-config is not given\n"
        ".TP\nJOURNAL_STREAM\nset by systemd; when it is stderr, logs go to journald as "
        "native entries\n.TP\nCONSUMER_HUB_SYSLOG_IDENTIFIER\nthose entries' SYSLOG_IDENTIFIER "
        "(default consumer\\-hub)"
    ),
    "see also": (
        "systemctl(1), journalctl(1), systemd.exec(5), sysusers.d(5);\n"
        "/usr/share/doc/consumer\\-hub/deploy.md and configuration.md"
    ),
}


def render() -> str:
    """The man page's roff text."""
    from argparse_manpage.manpage import Manpage

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"  # argparse wraps usage lines to the terminal: not in a file
    try:
        page = Manpage(build_parser(), _data={
            "version": __version__,
            "project_name": "consumer-hub",
            "manual_title": "consumer-hub manual",
            "description": "a message-bus consumer daemon and its tools",
        })  # fmt: skip
        for heading, text in SECTIONS.items():
            page.add_section(heading, "=", text)
        return str(page)
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else PAGE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
