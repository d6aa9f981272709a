"""hub.cli.completion: `consumer-hub completion bash|zsh` prints a script covering the parser."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.cli import main as cli
from hub.cli.completion import cmd_completion


def _script(shell: str) -> str:
    out = io.StringIO()
    args = cli.build_parser().parse_args(["completion", shell])
    assert cmd_completion(args, out) == 0
    return out.getvalue()


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_script_names_every_command_and_option(shell: str) -> None:
    """The generated script lists every sub-command, the new options and file completion."""
    text = _script(shell)
    for command in ("run", "check", "publish", "tail", "install-units", "completion"):
        assert command in text, command
    for option in ("--config", "--version", "--new-ids", "--json", "--prefix"):
        assert option in text, option
    assert ("_shtab_compgen_files" if shell == "bash" else "_files") in text


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_script_completes_a_command(tmp_path: Path) -> None:
    """Sourced into a real bash, the script completes `consumer-hub pub` to `publish`."""
    script = tmp_path / "consumer-hub.bash"
    script.write_text(_script("bash"))
    probe = (f"source {script}; COMP_WORDS=(consumer-hub pub); COMP_CWORD=1; "
             "COMP_LINE='consumer-hub pub'; COMP_POINT=${#COMP_LINE}; "
             "_shtab_consumer_hub consumer-hub pub consumer-hub; "
             'echo "${COMPREPLY[@]}"')  # fmt: skip
    result = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert result.stdout.split() == ["publish"], result.stderr
