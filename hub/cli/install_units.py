"""``consumer-hub install-units [--prefix DIR] [--exec PATH]``: systemd's files where it looks.

Runs on the CLI's main thread; reads no hub configuration. The package installs the units, the
sysusers.d file, the docs the units' ``Documentation=`` names and the man page as data files
under its own prefix (``share/consumer-hub/``, ``share/doc/consumer-hub/``, ``share/man/``;
setup.cfg), where systemd does not look, e.g. ``/opt/consumer-hub/share/`` in a virtualenv.
This command copies them (from that installation, found through its RECORD, or from the source
checkout the code runs from) to ``/etc/systemd/system``, ``/usr/lib/sysusers.d``,
``/usr/share/doc/consumer-hub`` and ``/usr/share/man/man1`` under ``--prefix`` (default ``/``;
a packager gives its build root), with ``ExecStart=`` pointing at this installation's
``consumer-hub`` script (``--exec``), so no ``/usr/bin`` symlink is needed. Files are replaced
whole (written beside, then renamed), so running it again after an upgrade is the upgrade.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import hub
from hub.errors import HubError

SHIPPED_EXEC = "/usr/bin/consumer-hub"  # the units' ExecStart as committed
# (the source checkout's directory, the package's data-file directory, pattern, the target)
TREES = (
    ("systemd", "share/consumer-hub/systemd", "consumer-hub*.service", "etc/systemd/system"),
    ("systemd/sysusers.d", "share/consumer-hub/sysusers.d", "*.conf", "usr/lib/sysusers.d"),
    ("docs", "share/doc/consumer-hub", "*.md", "usr/share/doc/consumer-hub"),
    ("share/man/man1", "share/man/man1", "consumer-hub.1", "usr/share/man/man1"),
)


def add_parser(sub: Any) -> None:
    """Register ``install-units``."""
    parser = sub.add_parser("install-units", help="write the systemd units, sysusers.d file, "
                            "docs and man page where systemd and man find them")  # fmt: skip
    parser.add_argument("--prefix", type=Path, default=Path("/"),
                        help="write under this root (default /; or a build root)")  # fmt: skip
    parser.add_argument("--exec", dest="exec_path", default=None, metavar="PATH",
                        help="the units' ExecStart program (default: this installation's "
                        f"consumer-hub script, else {SHIPPED_EXEC})")  # fmt: skip


def default_exec() -> str:
    """The ``consumer-hub`` script running now, else the one beside this Python (a
    virtualenv's bin/), else /usr/bin's."""
    for script in (Path(sys.argv[0]), Path(sys.executable).parent / "consumer-hub"):
        if script.name == "consumer-hub" and os.access(script, os.X_OK):
            return str(script.absolute())
    return SHIPPED_EXEC


def shipped_files() -> list[tuple[Path, str]]:
    """Every file to install, as (where it is now, its path under the prefix)."""
    checkout = Path(hub.__file__).resolve().parents[1]
    if (checkout / "setup.cfg").is_file() and (checkout / "systemd").is_dir():
        found = [(path, f"{target}/{path.name}") for source, _, pattern, target in TREES
                 for path in sorted((checkout / source).glob(pattern))]  # fmt: skip
    else:
        found = _installed_files(checkout)
    missing = [tree[1] for tree in TREES if not any(t.startswith(tree[3]) for _, t in found)]
    if missing:
        raise HubError(f"the package's data files are not installed: {', '.join(missing)} "
                       f"(hub is imported from {checkout})")  # fmt: skip
    return found


def _installed_files(site: Path) -> list[tuple[Path, str]]:
    """The data files of the consumer-hub distribution installed beside ``site``'s hub."""
    dists = [d for d in metadata.distributions(path=[str(site)]) if d.name == "consumer-hub"]
    found = []
    for dist in dists[:1]:
        for record in dist.files or []:
            for _, data_dir, pattern, target in TREES:
                if str(record.parent).endswith(data_dir) and fnmatch.fnmatch(record.name, pattern):
                    found.append((Path(str(dist.locate_file(record))), f"{target}/{record.name}"))
    return found


def install(prefix: Path, exec_path: str) -> list[Path]:
    """Write every shipped file under ``prefix``; return the paths written."""
    written = []
    for source, relative in shipped_files():
        target = prefix / relative
        data = source.read_bytes()
        if source.suffix == ".service":
            data = data.replace(
                f"ExecStart={SHIPPED_EXEC} ".encode(), f"ExecStart={exec_path} ".encode()
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(data)
        partial.chmod(0o644)
        partial.replace(target)
        written.append(target)
    return written


def cmd_install_units(args: argparse.Namespace) -> int:
    """Install the files; say what to run next."""
    exec_path = args.exec_path or default_exec()
    try:
        written = install(args.prefix, exec_path)
    except OSError as exc:
        raise HubError(f"install-units: {exc.filename}: {exc.strerror}") from None
    for path in written:
        print(f"wrote {path}")
    print(f"ExecStart={exec_path} run ...")
    if args.prefix == Path("/"):
        print("next: systemd-sysusers consumer-hub.conf && systemctl daemon-reload")
    return 0


COMMANDS = {"install-units": cmd_install_units}
