"""hub.cli.install_units: the units, sysusers file, docs and man page written under a prefix."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from hub.cli import install_units
from hub.errors import HubError

REPO = Path(__file__).resolve().parents[3]


def test_writes_every_file_where_systemd_and_man_look(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From the checkout: both units (ExecStart rewritten), sysusers.d, every doc, the man
    page, each 0644; the output names them."""
    args = argparse.Namespace(prefix=tmp_path, exec_path="/opt/hub/bin/consumer-hub")
    assert install_units.cmd_install_units(args) == 0
    units = tmp_path / "etc/systemd/system"
    names = sorted(p.name for p in units.iterdir())
    assert names == ["consumer-hub.service", "consumer-hub@.service"]
    for unit in units.iterdir():
        text = unit.read_text()
        assert "ExecStart=/opt/hub/bin/consumer-hub run --config /etc/consumer-hub/" in text
        assert (
            text.replace("/opt/hub/bin/consumer-hub", "/usr/bin/consumer-hub")
            == (REPO / "systemd" / unit.name).read_text()
        )
        assert (unit.stat().st_mode & 0o777) == 0o644
    assert (tmp_path / "usr/lib/sysusers.d/consumer-hub.conf").read_bytes() == (
        REPO / "systemd/sysusers.d/consumer-hub.conf"
    ).read_bytes()
    docs = {p.name for p in (tmp_path / "usr/share/doc/consumer-hub").iterdir()}
    assert docs == {p.name for p in (REPO / "docs").glob("*.md")} and "deploy.md" in docs
    assert (tmp_path / "usr/share/man/man1/consumer-hub.1").is_file()
    out = capsys.readouterr().out
    assert f"wrote {units / 'consumer-hub.service'}" in out and "next:" not in out


def test_documentation_links_resolve_after_install(tmp_path: Path) -> None:
    """Every file:// Documentation= of the units names a file install-units wrote."""
    install_units.install(tmp_path, "/usr/bin/consumer-hub")
    for unit in (tmp_path / "etc/systemd/system").iterdir():
        [line] = [x for x in unit.read_text().splitlines() if x.startswith("Documentation=")]
        links = [w for w in line.removeprefix("Documentation=").split() if w.startswith("file://")]
        assert links
        for link in links:
            assert (tmp_path / link.removeprefix("file:///")).is_file(), link


def test_an_unwritable_prefix_is_reported(tmp_path: Path) -> None:
    """A target that cannot be written is a HubError naming it, not a traceback."""
    (tmp_path / "etc").write_text("a file where a directory must be")
    args = argparse.Namespace(prefix=tmp_path, exec_path="/x")
    with pytest.raises(HubError, match=r"install-units: .*etc"):
        install_units.cmd_install_units(args)
