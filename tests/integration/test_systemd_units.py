"""The systemd units pass `systemd-analyze verify`, with ExecStart pointing at a real install."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli.main import build_parser

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "systemd"
SHIPPED_EXEC = "/usr/bin/consumer-hub"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project installed (no dependencies) into a temporary prefix."""
    target = tmp_path_factory.mktemp("prefix")
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed"]
    cmd += ["--prefix", str(target)]  # --ignore-installed: never uninstall the test venv's copy
    subprocess.run([*cmd, str(ROOT)], check=True, timeout=300, capture_output=True)
    return target


@pytest.fixture(scope="module")
def installed_root(prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root that the prefix's own `consumer-hub install-units --prefix ROOT` wrote into."""
    root = tmp_path_factory.mktemp("root")
    script = prefix / "bin" / "consumer-hub"
    assert os.access(script, os.X_OK), f"pip did not install {script}"
    site = next(prefix.glob("lib/python*/site-packages"))
    env = dict(os.environ, PYTHONPATH=str(site))
    cmd = [str(script), "install-units", "--prefix", str(root)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module")
def unit_dir(installed_root: Path) -> Path:
    """Both units as install-units wrote them: ExecStart is the prefix's consumer-hub script."""
    return installed_root / "etc" / "systemd" / "system"


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    cmd = [ANALYZE, "verify", "--man=no", str(unit)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@needs_analyze
@pytest.mark.parametrize("unit", ["consumer-hub.service", "consumer-hub@hub.service"])
def test_verify_is_clean(unit_dir: Path, unit: str) -> None:
    """systemd-analyze verify exits 0 and prints no warning (unknown keys only warn)."""
    result = _verify(unit_dir / unit)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


@needs_analyze
def test_verify_catches_a_broken_copy(unit_dir: Path, tmp_path: Path) -> None:
    """The check has teeth: a misspelt key in the template is reported."""
    text = (unit_dir / "consumer-hub@.service").read_text()
    (tmp_path / "consumer-hub@.service").write_text(text.replace("WatchdogSec=", "WatchdogSecs="))
    result = _verify(tmp_path / "consumer-hub@x.service")
    assert "Unknown key 'WatchdogSecs'" in result.stderr


@needs_analyze
def test_security_exposure_is_low(unit_dir: Path) -> None:
    """`systemd-analyze security --offline` rates the hardening OK (exposure below 2.0)."""
    assert ANALYZE is not None
    cmd = [
        ANALYZE,
        "security",
        "--offline=yes",
        "--no-pager",
        str(unit_dir / "consumer-hub.service"),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) < 2.0


def _service_lines(name: str) -> list[str]:
    text = (UNITS / name).read_text()
    section = text.split("\n[Service]\n", 1)[1].split("\n[Install]\n", 1)[0]
    return [line for line in section.splitlines() if line and not line.startswith("#")]


def test_template_keeps_in_step() -> None:
    """The template's [Service] differs from the main unit only in per-instance lines (the
    config path, the directories, and the instance name for the statsd prefix)."""
    main = _service_lines("consumer-hub.service")
    template = [
        line.replace("/etc/consumer-hub/%i.yaml", "/etc/consumer-hub/hub.yaml")
        .replace("/%i", "")
        .replace("@%i", "")
        for line in _service_lines("consumer-hub@.service")
        if line != "Environment=CONSUMER_HUB_INSTANCE=%i"
    ]
    assert template == main


def test_restart_policy_matches_exit_codes() -> None:
    """Exits 3, 4 and 5 do not restart, and TimeoutStopSec leaves room for the 30 s drain."""
    lines = _service_lines("consumer-hub.service")
    assert "RestartPreventExitStatus=3 4 5" in lines
    assert "Restart=on-failure" in lines
    stop = next(line for line in lines if line.startswith("TimeoutStopSec="))
    assert int(stop.split("=")[1].rstrip("s")) > 30


@pytest.mark.parametrize(
    ("unit", "config"),
    [
        ("consumer-hub.service", "/etc/consumer-hub/hub.yaml"),
        ("consumer-hub@.service", "/etc/consumer-hub/%i.yaml"),
    ],
)
def test_execstart_is_a_valid_command_line(unit: str, config: str) -> None:
    """The units' ExecStart parses as `run` with the right --config (not a usage error, exit 2)."""
    exec_start = next(line for line in _service_lines(unit) if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert argv[0] == SHIPPED_EXEC
    args = build_parser().parse_args(argv[1:])
    assert args.command == "run" and args.config == Path(config)


def test_installed_script_runs(prefix: Path, tmp_path: Path) -> None:
    """The script pip put in the prefix runs the hub's CLI (`check` on a minimal config)."""
    config = tmp_path / "hub.yaml"
    config.write_text("endpoints: ['tcp://127.0.0.1:1']\nconsumers: {}\n")
    site = next(prefix.glob("lib/python*/site-packages"))
    env = dict(os.environ, PYTHONPATH=str(site))
    cmd = [str(prefix / "bin" / "consumer-hub"), "check", "--config", str(config)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


def test_package_installs_the_data_files(prefix: Path) -> None:
    """pip puts the units, sysusers.d file, docs and man page under the prefix's share/."""
    share = prefix / "share"
    for path in ("consumer-hub/systemd/consumer-hub.service",
                 "consumer-hub/systemd/consumer-hub@.service",
                 "consumer-hub/sysusers.d/consumer-hub.conf", "doc/consumer-hub/deploy.md",
                 "man/man1/consumer-hub.1"):  # fmt: skip
        assert (share / path).is_file(), path


def test_install_units_from_the_package(prefix: Path, installed_root: Path) -> None:
    """The installed package's install-units writes every file the units point at, with
    ExecStart the script that ran it, and nothing else differs from the shipped units."""
    script = prefix / "bin" / "consumer-hub"
    for name in ("consumer-hub.service", "consumer-hub@.service"):
        text = (installed_root / "etc/systemd/system" / name).read_text()
        assert f"ExecStart={script} run --config /etc/consumer-hub/" in text
        assert text.replace(str(script), SHIPPED_EXEC) == (UNITS / name).read_text()
    assert (installed_root / "usr/lib/sysusers.d/consumer-hub.conf").is_file()
    assert (installed_root / "usr/share/doc/consumer-hub/deploy.md").is_file()
    assert (installed_root / "usr/share/man/man1/consumer-hub.1").is_file()


def test_units_name_their_syslog_identifier() -> None:
    """SyslogIdentifier= and the hub's own identifier agree: consumer-hub, consumer-hub@NAME."""
    for name, ident in (("consumer-hub.service", "consumer-hub"),
                        ("consumer-hub@.service", "consumer-hub@%i")):  # fmt: skip
        lines = _service_lines(name)
        assert f"SyslogIdentifier={ident}" in lines
        assert f"Environment=CONSUMER_HUB_SYSLOG_IDENTIFIER={ident}" in lines
