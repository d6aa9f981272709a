"""``consumer-hub import-config PATH``: a fedmsg or fedora-messaging configuration as hub YAML.

Runs on the CLI's main thread; needs no hub configuration file. ``PATH`` is a ``fedmsg.d/``
directory (`hub.cli.import_fedmsg`) or a fedora-messaging ``.toml`` file
(`hub.cli.import_toml`); the equivalent hub configuration is printed on stdout as YAML, with a
``#`` comment for each thing it cannot carry and each translation it made. Anything else, or
input that cannot be read, is a `ConfigError` (exit code 3). Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from hub.cli.import_draft import Draft, render
from hub.cli.import_fedmsg import draft_from_fedmsg
from hub.cli.import_toml import draft_from_toml
from hub.errors import ConfigError


def add_parser(sub: Any) -> None:
    """Register the ``import-config`` sub-command."""
    parser = sub.add_parser(
        "import-config",
        help="print a fedmsg.d/ directory or fedora-messaging TOML file as hub YAML",
    )
    parser.add_argument("path", type=Path, help="a fedmsg.d/ directory or a .toml file")


def draft_from(path: Path) -> Draft:
    """The draft for ``path``, by its kind; `ConfigError` when it is neither kind."""
    if path.is_dir():
        return draft_from_fedmsg(path)
    if path.suffix == ".toml" and path.is_file():
        return draft_from_toml(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such file or directory")
    raise ConfigError(f"{path}: neither a fedmsg.d/ directory nor a fedora-messaging .toml file")


def cmd_import_config(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the hub configuration equivalent to ``args.path`` (on ``out``, default stdout)."""
    (sys.stdout if out is None else out).write(render(draft_from(args.path)))
    return 0


COMMANDS = {"import-config": cmd_import_config}
