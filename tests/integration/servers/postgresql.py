"""A private PostgreSQL cluster for the integration tests: the session-scoped `postgresql`
fixture, and `postgresql_db`, a fresh database on it for each test.

Runs in the pytest process (main thread). The cluster is Debian's ``postgresql`` package
(``/usr/lib/postgresql/<version>/bin``: ``initdb`` and ``postgres``), with everything of its
own: a data directory made by ``initdb`` in a temporary directory, ``trust`` authentication for
loopback and the unix socket only, a free loopback TCP port and a unix socket in that same
directory (``unix_socket_directories``), so nothing reads or writes the system cluster's files,
socket or port. PostgreSQL refuses to run as root: as root the cluster runs as the ``postgres``
user (via ``setpriv``, as the RabbitMQ node does), and the directory is that user's.

``postgres`` itself is started in the foreground (not ``pg_ctl start``, which daemonizes and so
escapes the death signal): ready means a connection (psycopg) succeeded, polled against a
deadline. Stopping is SIGINT (PostgreSQL's fast shutdown), then SIGKILL to its own process
group. If pytest itself is killed, ``setpriv --pdeathsig INT`` sends the server the same fast
shutdown, so no cluster outlives the run.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import psycopg
import pytest

from tests.integration.servers.rabbitmq import free_port, in_ci

PACKAGE = "postgresql"
BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
POLL_S = 0.05
RUN_AS = "postgres"
SUPERUSER = "postgres"
SETTINGS = {  # a throw-away cluster: durability off, small, loopback only
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "50",
    "logging_collector": "off",
}
_databases = itertools.count(1)


def find_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb and postgres, or None."""
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    for directory in sorted(found, key=lambda p: int(p.parent.name), reverse=True):
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    return None


class PostgreSQL:
    """One private cluster: ``url(dbname)``, ``connect()``, ``create_database()``, ``stop()``.

    ``settings``: the server's ``-c`` settings (default `SETTINGS`, durability off); ``prefix``:
    its temporary directory's name (the bench runs one with PostgreSQL's durable defaults)."""

    def __init__(
        self,
        bindir: Path,
        settings: Mapping[str, str] | None = None,
        prefix: str = "hubtest-postgresql-",
    ) -> None:
        self.bindir = bindir
        self.version = bindir.parent.name
        self.settings = dict(SETTINGS if settings is None else settings)
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = RUN_AS if os.getuid() == 0 else None
        self.startup_s: float | None = None
        self._server: subprocess.Popen[bytes] | None = None

    def url(self, dbname: str = "postgres", driver: str = "psycopg") -> str:
        """A SQLAlchemy URL for ``dbname`` over loopback TCP (trust: no password)."""
        return f"postgresql+{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """A psycopg connection (autocommit) to ``dbname`` over loopback TCP."""
        return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER,
                               dbname=dbname, connect_timeout=5, autocommit=True)  # fmt: skip

    def _argv(self, *argv: str) -> list[str]:
        """``argv`` run as the cluster's user, sent SIGINT (fast shutdown) if pytest dies."""
        if shutil.which("setpriv") is None and self.user is None:
            return list(argv)
        user = [] if self.user is None else [f"--reuid={self.user}", f"--regid={self.user}"]
        return ["setpriv", "--pdeathsig", "INT", *user, *(["--init-groups"] if user else []),
                *argv]  # fmt: skip

    def env(self) -> dict[str, str]:
        """The environment of the cluster's processes: nothing inherited that could leak."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8", "HOME": str(self.root), "TZ": "UTC"}  # fmt: skip

    def _initdb(self) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        argv = [str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                "--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions"]  # fmt: skip
        done = subprocess.run(self._argv(*argv), env=self.env(), cwd=self.root,
                              capture_output=True, text=True, timeout=START_TIMEOUT_S)  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"initdb: rc {done.returncode}\n{done.stdout}{done.stderr}")
        # trust for the unix socket and loopback only (initdb's file also allows replication)
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )

    def start(self, timeout: float = START_TIMEOUT_S) -> PostgreSQL:
        """initdb, then ``postgres`` in the foreground; return once a connection succeeds."""
        self._initdb()
        return self.resume(timeout)

    def resume(self, timeout: float = START_TIMEOUT_S) -> PostgreSQL:
        """``postgres`` on the existing data directory (after `pause`), on the same port."""
        began = time.monotonic()
        settings = {
            **self.settings,
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
        }
        argv = [str(self.bindir / "postgres"), "-D", str(self.data)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        with (self.root / "server.log").open("ab") as out:
            self._server = subprocess.Popen(
                self._argv(*argv), env=self.env(), cwd=self.root, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self._wait(self.answers, began + timeout)
        self.startup_s = time.monotonic() - began
        return self

    def _wait(self, ready: Callable[[], bool], deadline: float) -> None:
        assert self._server is not None
        while not ready():
            if self._server.poll() is not None:
                raise AssertionError(f"postgres exited ({self._server.returncode})\n{self.logs()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"PostgreSQL not up in time: no connection\n{self.logs()}")
            time.sleep(POLL_S)

    def answers(self) -> bool:
        """True when a connection to the ``postgres`` database opens (and closes again)."""
        try:
            self.connect().close()
        except psycopg.OperationalError:
            return False
        return True

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"hubtest_{os.getpid()}_{next(_databases)}"
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection a test left open to it."""
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def logs(self, lines: int = 40) -> str:
        """The last lines of the server's output, for failure messages."""
        path = self.root / "server.log"
        if not path.exists():
            return ""
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        return "--- server.log\n" + "\n".join(tail)

    def stop(self) -> None:
        """Fast shutdown (`pause`), then remove the directory."""
        self.pause()
        shutil.rmtree(self.root, ignore_errors=True)

    def pause(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL to its process group; the data stays."""
        proc = self._server
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(STOP_TIMEOUT_S)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def require_bin() -> Path:
    """PostgreSQL's programs; else skip with one line naming the package (fail under CI=true)."""
    bindir = find_bin()
    if bindir is None:
        if in_ci():
            pytest.fail(f"{PACKAGE} is not installed (.ci/run installs it)")
        pytest.skip(f"{PACKAGE} is not installed: apt-get install {PACKAGE}")
    return bindir


STARTED: list[PostgreSQL] = []  # for the terminal summary: version, port and start-up time


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgreSQL]:
    """A private PostgreSQL cluster for the session; skipped (failed under CI=true) if missing."""
    server = PostgreSQL(require_bin())
    try:
        server.start()
        STARTED.append(server)
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgresql_db(postgresql: PostgreSQL) -> Iterator[str]:
    """The SQLAlchemy URL (psycopg 3) of a new empty database, dropped after the test."""
    name = postgresql.create_database()
    try:
        yield postgresql.url(name)
    finally:
        postgresql.drop_database(name)
