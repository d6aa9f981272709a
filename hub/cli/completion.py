"""``consumer-hub completion bash|zsh``: a shell completion script, generated from the parser.

Runs on the CLI's main thread; reads no hub configuration. shtab turns the live argparse parser
into a static script (so a new option completes once the script is regenerated, and nothing runs
Python on every Tab); `FILE` marks the options that take a path, the way ``shtab.FILE`` does,
without importing shtab when the command line is built.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

SHELLS = ("bash", "zsh")
FILE = {"bash": "_shtab_compgen_files", "zsh": "_files"}  # = shtab.FILE


def files(action: argparse.Action) -> argparse.Action:
    """Mark ``action`` as taking a file name (shtab reads ``complete``); return it."""
    setattr(action, "complete", FILE)  # noqa: B010  # argparse.Action has no such attribute
    return action


def add_parser(sub: Any, root: argparse.ArgumentParser) -> None:
    """Register ``completion``; ``root`` is the whole command line it completes."""
    parser = sub.add_parser("completion", help="print a bash or zsh completion script",
                            description="Print the completion script for SHELL. bash: source it, "
                            "or save it as /etc/bash_completion.d/consumer-hub; zsh: save it as "
                            "_consumer-hub in a directory of $fpath.")  # fmt: skip
    parser.add_argument("shell", choices=SHELLS)
    parser.set_defaults(completion_root=root)


def script(root: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell``."""
    import shtab

    text: str = shtab.complete(root, shell=shell)
    return text


def cmd_completion(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the script."""
    (sys.stdout if out is None else out).write(script(args.completion_root, args.shell))
    return 0


COMMANDS = {"completion": cmd_completion}
