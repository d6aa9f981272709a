"""A private RabbitMQ node for the integration tests, and the session-scoped `rabbitmq` fixture.

Runs in the pytest process (main thread). The node is Debian's ``rabbitmq-server`` started from
its real scripts (``/usr/lib/rabbitmq/bin``: the ``/usr/sbin`` wrappers ``cd`` into
``/var/lib/rabbitmq`` and log to ``/var/log/rabbitmq``), with everything of its own: a node
name ``hubtest-<pid>-<n>@localhost``, an AMQP port, a distribution port and a private ``epmd``
on free loopback ports, and a temporary directory for its mnesia data, logs, config, enabled
plugins (only ``rabbitmq_auth_mechanism_ssl``, for client certificates), Erlang cookie
(``HOME``) and TLS files: a second listener takes AMQPS (``tls_url``) with a throw-away CA.
As root it runs as the ``rabbitmq`` user (via ``setpriv``, which keeps the environment, unlike
``runuser``, which resets ``HOME``), and the directory is that user's. Nothing reads or writes
the system node's files, cookie or ports.

Ready means an AMQP connection (pika's ``BlockingConnection``) succeeded, polled against a
deadline; stopping is ``rabbitmqctl stop``, then SIGKILL to the node's own process group. If
pytest itself is killed, ``setpriv --pdeathsig`` sends the node's script SIGTERM, which stops
the node, so no broker outlives the run.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
import pytest

from tests.integration.servers.certs import make_tls_files

PACKAGE = "rabbitmq-server"
SCRIPT_DIRS = ("/usr/lib/rabbitmq/bin",)  # the real scripts; /usr/sbin holds wrappers
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
CTL_TIMEOUT_S = 60.0
POLL_S = 0.05
RUN_AS = "rabbitmq"
PLUGINS = "[rabbitmq_auth_mechanism_ssl].\n"  # SASL EXTERNAL, for client certificates
CONFIG = """\
log.file.level = info
log.console = false
listeners.ssl.default = 127.0.0.1:{tls_port}
ssl_options.cacertfile = {tls}/ca.pem
ssl_options.certfile = {tls}/server.pem
ssl_options.keyfile = {tls}/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = common_name
"""
_numbers = itertools.count(1)


def find_scripts() -> Path | None:
    """The directory holding ``rabbitmq-server`` and ``rabbitmqctl``, or None if not installed."""
    found = shutil.which("rabbitmq-server", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    candidates = [*SCRIPT_DIRS, *([os.path.dirname(found)] if found else [])]
    for directory in map(Path, candidates):
        if (directory / "rabbitmq-server").is_file() and (directory / "rabbitmqctl").is_file():
            return directory
    return None


def in_ci() -> bool:
    """True under CI=true, where a missing broker is a failure, not a skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing was listening on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


class RabbitMQ:
    """One private node: ``url``, ``ctl(*args)``, ``queues()``, ``start()``, ``stop()``."""

    def __init__(self, scripts: Path) -> None:
        self.scripts = scripts
        self.root = Path(tempfile.mkdtemp(prefix="hubtest-rabbitmq-"))
        self.node = f"hubtest-{os.getpid()}-{next(_numbers)}@localhost"
        self.amqp_port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        self.tls_port = free_port()
        self.tls_dir = self.root / "tls"
        self.user = RUN_AS if os.getuid() == 0 else None
        self.startup_s: float | None = None
        self._server: subprocess.Popen[bytes] | None = None
        self._epmd: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The AMQP URL of the node (guest is allowed from loopback only, which this is)."""
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"

    @property
    def tls_url(self) -> str:
        """The AMQPS URL (server certificate for ``localhost``, signed by ``tls_dir/ca.pem``)."""
        return f"amqps://guest:guest@localhost:{self.tls_port}/%2F"

    def env(self) -> dict[str, str]:
        """The environment of every process of this node: nothing inherited that could leak."""
        root = str(self.root)
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "HOME": root,  # the Erlang cookie is $HOME/.erlang.cookie
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": f"{root}/mnesia",
            "RABBITMQ_LOG_BASE": f"{root}/log",
            "RABBITMQ_LOGS": f"{root}/log/rabbit.log",
            "RABBITMQ_CONFIG_FILE": f"{root}/rabbitmq.conf",
            "RABBITMQ_ADVANCED_CONFIG_FILE": f"{root}/advanced.config",
            "RABBITMQ_CONF_ENV_FILE": f"{root}/rabbitmq-env.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{root}/enabled_plugins",
            "RABBITMQ_PID_FILE": f"{root}/rabbit.pid",
        }

    def _argv(self, *argv: str) -> list[str]:
        """``argv`` run as the node's user, and sent SIGTERM if this process dies first."""
        if shutil.which("setpriv") is None and self.user is None:
            return list(argv)
        user = [] if self.user is None else [f"--reuid={self.user}", f"--regid={self.user}"]
        return ["setpriv", "--pdeathsig", "TERM", *user, *(["--init-groups"] if user else []),
                *argv]  # fmt: skip

    def _prepare(self) -> None:
        for sub in ("mnesia", "log"):
            (self.root / sub).mkdir()
        make_tls_files(self.tls_dir, client_user="guest")  # EXTERNAL logs in as the CN
        (self.root / "rabbitmq.conf").write_text(
            CONFIG.format(tls_port=self.tls_port, tls=self.tls_dir)
        )
        (self.root / "enabled_plugins").write_text(PLUGINS)
        (self.root / "rabbitmq-env.conf").write_text("")
        cookie = self.root / ".erlang.cookie"
        cookie.write_text("".join(secrets.choice(string.ascii_uppercase) for _ in range(32)))
        cookie.chmod(0o400)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _spawn(self, argv: list[str], output: Path) -> subprocess.Popen[bytes]:
        with output.open("ab") as out:
            return subprocess.Popen(
                self._argv(*argv), env=self.env(), cwd=self.root, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip

    def start(self, timeout: float = START_TIMEOUT_S) -> RabbitMQ:
        """Start epmd and the node; return once an AMQP connection succeeds."""
        began = time.monotonic()
        deadline = began + timeout
        self._prepare()
        epmd = ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"]
        self._epmd = self._spawn(epmd, self.root / "epmd.out")
        self._wait(lambda: port_open(self.epmd_port), deadline, self._epmd, "epmd")
        server = str(self.scripts / "rabbitmq-server")
        self._server = self._spawn([server], self.root / "server.out")
        self._wait(lambda: port_open(self.amqp_port), deadline, self._server, "AMQP listener")
        self._wait(lambda: port_open(self.tls_port), deadline, self._server, "AMQPS listener")
        self._wait(self.answers, deadline, self._server, "an AMQP connection")
        self.startup_s = time.monotonic() - began
        return self

    def _wait(self, ready: Any, deadline: float, proc: subprocess.Popen[bytes], what: str) -> None:
        while not ready():
            if proc.poll() is not None:
                raise AssertionError(f"{what}: process exited ({proc.returncode})\n{self.logs()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"RabbitMQ node not up in time: no {what}\n{self.logs()}")
            time.sleep(POLL_S)

    def answers(self) -> bool:
        """True when an AMQP connection to the node opens (and closes again)."""
        params = pika.URLParameters(f"{self.url}?connection_attempts=1&socket_timeout=5")
        try:
            pika.BlockingConnection(params).close()
        except pika.exceptions.AMQPError:
            return False
        return True

    def ctl(self, *args: str, timeout: float = CTL_TIMEOUT_S, check: bool = True) -> str:
        """Run ``rabbitmqctl -n <this node> *args``; return stdout (fail with output if rc != 0)."""
        argv = self._argv(str(self.scripts / "rabbitmqctl"), "-n", self.node, *args)
        done = subprocess.run(
            argv, env=self.env(), cwd=self.root, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise AssertionError(f"rabbitmqctl {' '.join(args)}: rc {done.returncode}\n"
                                 f"{done.stdout}{done.stderr}")  # fmt: skip
        return done.stdout

    def queues(self) -> dict[str, dict[str, Any]]:
        """Every queue of the default vhost: name -> its fields (messages_ready, ...)."""
        fields = ("name", "messages_ready", "messages_unacknowledged", "consumers", "type")
        out = self.ctl("list_queues", "-q", "--formatter", "json", *fields)
        return {row["name"]: row for row in json.loads(out or "[]")}

    def bindings(self, queue: str, exchange: str = "amq.topic") -> set[str]:
        """The routing keys ``queue`` is bound with on ``exchange``."""
        fields = ("source_name", "destination_name", "routing_key")
        out = self.ctl("list_bindings", "-q", "--formatter", "json", *fields)
        return {row["routing_key"] for row in json.loads(out or "[]")
                if row["source_name"] == exchange and row["destination_name"] == queue}  # fmt: skip

    def logs(self, lines: int = 40) -> str:
        """The last lines of the node's console output and log, for failure messages."""
        parts = []
        for name in ("server.out", "log/rabbit.log"):
            path = self.root / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the node (rabbitmqctl stop, then SIGKILL), stop epmd, remove the directory."""
        if self._server is not None and self._server.poll() is None:
            try:
                self.ctl("stop", timeout=STOP_TIMEOUT_S, check=False)
                self._server.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        for proc in (self._server, self._epmd):
            if proc is not None:
                _kill_group(proc)
        shutil.rmtree(self.root, ignore_errors=True)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group this fixture created for ``proc`` if it still runs; reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # its own session: start_new_session
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def require_scripts() -> Path:
    """The broker's scripts; else skip with one line naming the package (fail under CI=true)."""
    scripts = find_scripts()
    if scripts is None:
        if in_ci():
            pytest.fail(f"{PACKAGE} is not installed (.ci/run installs it)")
        pytest.skip(f"{PACKAGE} is not installed: apt-get install {PACKAGE}")
    return scripts


STARTED: list[RabbitMQ] = []  # for the terminal summary: node name and start-up time


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQ]:
    """A private RabbitMQ node for the session; skipped (failed under CI=true) if not installed."""
    broker = RabbitMQ(require_scripts())
    try:
        broker.start()
        STARTED.append(broker)
        yield broker
    finally:
        broker.stop()
