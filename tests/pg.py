"""A real PostgreSQL server for the tests: private, started here, never mocked, never skipped.

Reuse it from any test folder's ``conftest.py``::

    from pg import pg_server, pg_database  # noqa: F401  (pytest fixtures)

``pg_server`` (session) is a private server of this test session: ``initdb`` into a temporary
folder, started with ``pg_ctl`` on a free TCP port of 127.0.0.1 with its Unix socket in that
folder, stopped and deleted at the end. The machine's own clusters are never started, stopped
or restarted. The PostgreSQL binaries are found in ``$INSPECT_STATION_PG_BINDIR``, else the
newest ``/usr/lib/postgresql/*/bin``, else on ``PATH``. The server refuses to run as root, so
as root it runs as the ``postgres`` user (``runuser``); otherwise as the current user.

The fixture creates a test administrator role (LOGIN, CREATEDB, CREATEROLE, member of
pg_signal_backend; not a superuser) that connects over TCP with a password, like a plant's
administrator would. When no server can be had the tests FAIL with the reason; they do not skip.

``pg_database`` (function) is a fresh, empty database owned by that role; ``.url`` is the
administrator's URL for it. Station roles created in it are named after it (see
``central_pg.default_role``) and dropped with it. ``pg_central_database`` (function) is the same
but already holding the central schema: a copy (``CREATE DATABASE ... TEMPLATE``) of a database
migrated once per server, for the many tests that begin with an initialised central store.

**One server for the whole run.** Under pytest-xdist the run's controller names a folder
(``INSPECT_STATION_TEST_PG_SHARED``, see ``share_servers``) before it starts any worker; the
first worker that needs PostgreSQL starts the server there (under a file lock) and the others
connect to it, each with database names of its own; the controller stops it when the run ends
(``stop_shared_server``). A test that stops or restarts its server (the chaos test) starts a
private one with ``start_private_server`` instead.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from psycopg import sql

ADMIN_DB = "postgres"
SUPERUSER = "postgres"
T = TypeVar("T")
SHARED_ENV = "INSPECT_STATION_TEST_PG_SHARED"
"""Environment variable naming the folder of the run's shared server (set by the controller)."""
_TEMPLATE_LOCK = 0x15_7E_57
"""Advisory lock key under which the migrated template database is made."""


def bindir() -> Path:
    """Where initdb, pg_ctl and psql are."""
    wanted = os.environ.get("INSPECT_STATION_PG_BINDIR")
    if wanted:
        return Path(wanted)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError(
            "no PostgreSQL binaries (initdb) found: install PostgreSQL 15 "
            "(Debian: postgresql-15) or set INSPECT_STATION_PG_BINDIR"
        )
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    """A private PostgreSQL server of this test session and its test administrator role."""

    root: Path
    """Temporary folder holding the data directory, the socket and the log."""
    port: int
    """TCP port on 127.0.0.1."""
    bin: Path
    """Folder of the PostgreSQL binaries."""
    run_as: str | None
    """The OS user the server runs as when we are root (else None: ourselves)."""
    durable: bool = False
    """Whether fsync is on (benchmarks); tests run with fsync off, for speed."""
    prefix: str = field(default_factory=lambda: f"ist_{secrets.token_hex(3)}")
    """Prefix of every role and database this session creates."""
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    """Password of the test administrator role."""
    names: str = ""
    """Prefix of the databases this process creates (the prefix, and the xdist worker if any)."""
    _databases: int = 0

    def __post_init__(self) -> None:
        if not self.names:
            worker = os.environ.get("PYTEST_XDIST_WORKER", "")
            self.names = f"{self.prefix}_{worker}" if worker else self.prefix
        self._admin: psycopg.Connection | None = None
        self._template_made = False

    @property
    def datadir(self) -> Path:
        """The server's data directory."""
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        """Folder of the server's Unix socket."""
        return self.root

    @property
    def admin_role(self) -> str:
        """The test administrator role."""
        return f"{self.prefix}_admin"

    def _cmd(self, args: list[str]) -> list[str]:
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *args]
        return args

    def _run(self, args: list[str], timeout: float = 120) -> str:
        result = subprocess.run(
            self._cmd(args), capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        if result.returncode != 0:
            output = (result.stderr + result.stdout).strip()
            raise RuntimeError(f"{Path(args[0]).name} failed: {output}")
        return result.stdout

    def url(self, dbname: str, user: str | None = None, password: str | None = None) -> str:
        """A postgresql:// URL for ``dbname`` over TCP (the test administrator by default)."""
        user = user or self.admin_role
        password = password if password is not None else self.password
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = ADMIN_DB) -> psycopg.Connection:
        """An autocommit connection as the test administrator."""
        return psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=10)

    def psql(self, command: str, dbname: str = ADMIN_DB) -> str:
        """Run SQL as the server's superuser over the private Unix socket; its output."""
        return self._run(
            [
                str(self.bin / "psql"),
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                dbname,
                "-c",
                command,
            ],
            timeout=60,
        )

    def initdb(self) -> None:
        """Create the data directory: trust on the private socket, passwords over TCP."""
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )

    def running(self) -> bool:
        """Whether the server's postmaster is up."""
        result = subprocess.run(
            self._cmd([str(self.bin / "pg_ctl"), "status", "-D", str(self.datadir)]),
            capture_output=True,
            text=True,
        )
        return result.returncode == 0

    def ctl(self, action: str) -> None:
        """pg_ctl start, stop or restart (fast shutdown), waiting for it.

        Dynamic shared memory lives in files in the data folder (``mmap``), not in ``/dev/shm``:
        a server killed by a test (the chaos tests) left its segments there for good; in the data
        folder they go when the folder is deleted.
        """
        if action == "start" and self.running():
            return
        if action == "stop" and not self.running():
            return
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} "
            f"-c max_connections=300 -c fsync={'on' if self.durable else 'off'} "
            "-c shared_buffers=64MB -c dynamic_shared_memory_type=mmap"
        )
        args = [str(self.bin / "pg_ctl"), action, "-D", str(self.datadir), "-w", "-t", "60"]
        if action in ("start", "restart"):
            args += ["-l", str(self.root / "server.log"), "-o", options]
        if action in ("stop", "restart"):
            args += ["-m", "fast"]
        try:
            self._run(args)
        except RuntimeError as exc:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{exc}\n{tail}") from None

    def wait_ready(self, timeout: float = 60) -> None:
        """Block until the server accepts the test administrator's connections."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url(ADMIN_DB), connect_timeout=3):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def restart(self) -> None:
        """Restart the server (every connection is dropped) and wait until it is back."""
        self.ctl("restart")
        self.wait_ready()

    def terminate(self, dbname: str, application_name: str | None = None) -> int:
        """pg_terminate_backend every other connection to ``dbname``; how many were ended."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() "
                "AND (%s::text IS NULL OR application_name = %s)",
                (dbname, application_name, application_name),
            ).fetchall()
        return sum(1 for (ok,) in rows if ok)

    def create_database(self, template: str | None = None) -> str:
        """A new database owned by the test administrator: empty, or a copy of ``template``.

        Copied file by file (``STRATEGY FILE_COPY``), not written through the WAL as PostgreSQL
        15 does by default: with fsync off, the checkpoint that copy asks for costs next to
        nothing, and a copy takes ~60 ms instead of ~150 ms of the server's time.
        """
        self._databases += 1
        name = f"{self.names}_{self._databases}"
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(template or "template1")
        )
        self._as_admin(lambda conn: conn.execute(statement))
        return name

    def _as_admin(self, work: Callable[[psycopg.Connection], T]) -> T:
        """``work`` on this process's administrator connection (kept open: a connection costs
        the server a backend and an authentication), connected again once if it was lost."""
        for attempt in (1, 2):
            if self._admin is None or self._admin.closed:
                self._admin = self.connect()
            try:
                return work(self._admin)
            except psycopg.OperationalError:
                if attempt == 2 or not self._admin.closed:
                    raise
        raise AssertionError("unreachable")

    @property
    def central_template(self) -> str:
        """The name of the database migrated once to the central schema."""
        return f"{self.prefix}_central"

    def ensure_central_template(self) -> str:
        """Make, once per server, a database holding the central schema; its name.

        Made under an advisory lock, so the workers sharing the server make it once; a copy of it
        is what ``migrate()`` gives an empty database (the schema does not depend on its name).
        """
        from inspect_station.sync import open_central

        name = self.central_template
        if self._template_made:
            return name
        with self.connect() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_TEMPLATE_LOCK,))
            try:
                made = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
                ).fetchone()
                if made is None:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    with open_central(self.url(name)) as central:
                        central.migrate()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_TEMPLATE_LOCK,))
        self._template_made = True
        return name

    def drop_database(self, name: str) -> None:
        """Drop a test database and the station roles named after it."""

        def drop(conn: psycopg.Connection) -> None:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            roles = conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
                (name.replace("_", r"\_") + r"\_%",),
            ).fetchall()
            for (role,) in roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

        self._as_admin(drop)

    def destroy(self) -> None:
        """Stop the server and delete its folder."""
        if self._admin is not None:
            self._admin.close()
        try:
            self.ctl("stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_private_server(durable: bool = False) -> PgServer:
    """initdb a new server in a temporary folder, start it on a free port, add the admin role."""
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise RuntimeError(
                "running as root, and there is no 'postgres' user to run the server as"
            ) from None
        run_as = SUPERUSER
    root = Path(tempfile.mkdtemp(prefix="ist-pg-"))
    os.chmod(root, 0o755)
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PgServer(root=root, port=_free_port(), bin=bindir(), run_as=run_as, durable=durable)
    try:
        server.initdb()
        server.ctl("start")
        server.psql(
            f"CREATE ROLE {server.admin_role} LOGIN CREATEDB CREATEROLE "
            f"PASSWORD '{server.password}'; GRANT pg_signal_backend TO {server.admin_role}"
        )
        server.wait_ready()
    except BaseException:
        server.destroy()
        raise
    return server


def share_servers() -> None:
    """In a run's controller, before any worker starts: name the folder of the shared server."""
    if not os.environ.get(SHARED_ENV):
        os.environ[SHARED_ENV] = tempfile.mkdtemp(prefix="ist-pg-shared-")


def stop_shared_server() -> None:
    """In the run's controller at its end: stop the shared server, if one was started."""
    folder = os.environ.pop(SHARED_ENV, None)
    if folder is None:
        return
    try:
        with _locked(Path(folder)):
            server = _read_shared(Path(folder))
            if server is not None:
                server.destroy()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_shared(folder: Path) -> PgServer | None:
    info = folder / "server.json"
    if not info.exists():
        return None
    fields = json.loads(info.read_text())
    fields["root"], fields["bin"] = Path(fields["root"]), Path(fields["bin"])
    fields.pop("names", None)
    fields.pop("_databases", None)
    return PgServer(**fields)


def _shared_server(folder: Path) -> PgServer:
    """The run's shared server: started by the first process that asks, then reused."""
    with _locked(folder):
        server = _read_shared(folder)
        if server is None:
            server = start_private_server()
            fields = asdict(server)
            fields["root"], fields["bin"] = str(server.root), str(server.bin)
            staged = folder / "server.json.new"
            staged.write_text(json.dumps(fields))
            staged.replace(folder / "server.json")
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A running PostgreSQL server with a test administrator role (see the docstring): the
    run's shared one under xdist, else a private one of this session."""
    folder = os.environ.get(SHARED_ENV)
    try:
        server = _shared_server(Path(folder)) if folder else start_private_server()
    except Exception as exc:
        pytest.fail(
            f"These tests need a real PostgreSQL server and could not start a private one: {exc}",
            pytrace=False,
        )
    try:
        yield server
    finally:
        if not folder:
            server.destroy()


@dataclass(frozen=True)
class PgDatabase:
    """A throw-away database on the test server."""

    server: PgServer
    """The server it lives on."""
    name: str
    """Database name."""

    @property
    def url(self) -> str:
        """The test administrator's URL for this database (holds the password)."""
        return self.server.url(self.name)

    def connect(self) -> psycopg.Connection:
        """An autocommit connection to it as the test administrator."""
        return self.server.connect(self.name)


@pytest.fixture
def pg_database(pg_server: PgServer) -> Iterator[PgDatabase]:
    """A fresh empty database owned by the test administrator, dropped after the test."""
    name = pg_server.create_database()
    try:
        yield PgDatabase(pg_server, name)
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def pg_central_database(pg_server: PgServer) -> Iterator[PgDatabase]:
    """A fresh database already holding the central schema (a copy of a migrated template)."""
    name = pg_server.create_database(template=pg_server.ensure_central_template())
    try:
        yield PgDatabase(pg_server, name)
    finally:
        pg_server.drop_database(name)
