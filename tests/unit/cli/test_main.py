"""hub.cli.main: --help in plain text naming every command, --version, config-free commands."""

from __future__ import annotations

import argparse

import pytest

import hub
from hub.cli import main as cli


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


def test_help_is_plain_text_and_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """--help has no reStructuredText markup, lists each sub-command and the exit codes."""
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "``" not in text and "`hub." not in text
    for command in _commands(cli.build_parser()):
        assert f"\n    {command} " in text, command
    assert "3  bad configuration" in text


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version and exits 0."""
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"consumer-hub {hub.__version__}\n"


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command is argparse's usage error, exit 2."""
    with pytest.raises(SystemExit) as info:
        cli.main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err
