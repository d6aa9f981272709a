"""hub.cli.import_config: the ``consumer-hub import-config PATH`` command end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hub.cli.main import main
from tests.unit.cli.conftest import FEDMSG_D, TOML


@pytest.mark.parametrize("path", [FEDMSG_D, TOML])
def test_prints_yaml_without_a_hub_config(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], moksha_registry: Path
) -> None:
    """Exit 0 and YAML on stdout, with no hub configuration file anywhere."""
    code = main(["--config", str(tmp_path / "absent.yaml"), "import-config", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("# Imported from ")
    assert isinstance(yaml.safe_load(out), dict)


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("absent", None, "no such file or directory"),
        ("hub.yaml", "endpoints: []\n", "neither a fedmsg.d/ directory nor a fedora-messaging"),
        ("bad.toml", "[queues\n", "not valid TOML"),
    ],
)
def test_bad_input_is_one_line_and_exit_3(
    name: str, content: str | None, error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A path of neither kind, or input that cannot be read, is one error line and exit 3."""
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    code = main(["import-config", str(path)])
    captured = capsys.readouterr()
    assert code == 3
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert error in captured.err and str(path) in captured.err


def test_a_failing_fedmsg_file_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fedmsg.d file that raises is exit 3 naming the file."""
    (tmp_path / "fedmsg.d").mkdir()
    (tmp_path / "fedmsg.d" / "a.py").write_text("config = 1 / 0\n")
    assert main(["import-config", str(tmp_path / "fedmsg.d")]) == 3
    assert "a.py: ZeroDivisionError" in capsys.readouterr().err
