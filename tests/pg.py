"""A real PostgreSQL server for the tests: found or started, never mocked, never skipped.

Reuse it from any test folder's ``conftest.py``::

    from pg import pg_server, pg_database  # noqa: F401  (pytest fixtures)

``pg_server`` (session) is the machine's Debian cluster (``pg_lsclusters``; the first one, or
``$INSPECT_STATION_PG_CLUSTER`` such as ``15/main``), started with ``pg_ctlcluster`` if it was
down and stopped again at the end of the session only in that case. The fixture creates a test
administrator role (LOGIN, CREATEDB, CREATEROLE, member of pg_signal_backend; not a superuser)
that connects over TCP with a password, like a plant's administrator would, and drops it and
everything it created at the end. Managing the cluster needs root (``runuser -u postgres``) or
the postgres user; when no server can be had the tests FAIL with the reason, they do not skip.

``pg_database`` (function) is a fresh, empty database owned by that role; ``.url`` is the
administrator's URL for it. Station roles created in it are named after it (see
``central_pg.default_role``) and dropped with it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import sql

ADMIN_DB = "postgres"


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args  # running as the postgres user (or with peer access) already


@dataclass
class PgServer:
    """A running local PostgreSQL cluster and the test administrator role on it."""

    version: str
    """Major version, e.g. '15'."""
    cluster: str
    """Cluster name, e.g. 'main'."""
    port: int
    """TCP port on 127.0.0.1."""
    started_here: bool
    """Whether this session started the server (and so stops it at the end)."""
    prefix: str = field(default_factory=lambda: f"ist_{secrets.token_hex(3)}")
    """Prefix of every role and database this session creates."""
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    """Password of the test administrator role."""
    _databases: int = 0

    @property
    def admin_role(self) -> str:
        """The test administrator role."""
        return f"{self.prefix}_admin"

    def url(self, dbname: str, user: str | None = None, password: str | None = None) -> str:
        """A postgresql:// URL for ``dbname`` over TCP (the test administrator by default)."""
        user = user or self.admin_role
        password = password if password is not None else self.password
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = ADMIN_DB) -> psycopg.Connection:
        """An autocommit connection as the test administrator."""
        return psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=10)

    def psql(self, command: str, dbname: str = ADMIN_DB) -> str:
        """Run SQL as the postgres superuser over the Unix socket; its output."""
        result = subprocess.run(
            _as_postgres(
                [
                    "psql",
                    "-X",
                    "-q",
                    "-At",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-p",
                    str(self.port),
                    "-d",
                    dbname,
                    "-c",
                    command,
                ]
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def running(self) -> bool:
        """Whether pg_lsclusters shows the cluster online."""
        return any(c[:2] == [self.version, self.cluster] and c[3] == "online" for c in _clusters())

    def ctl(self, action: str) -> None:
        """pg_ctlcluster VERSION CLUSTER ACTION (start, stop, restart), waiting for it."""
        if action == "start" and self.running():
            return
        result = subprocess.run(
            ["pg_ctlcluster", self.version, self.cluster, action],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            output = (result.stderr + result.stdout).strip()
            raise RuntimeError(f"pg_ctlcluster {action} failed: {output}")

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

    def others_using(self) -> bool:
        """Whether another test session (another prefix) has databases or connections here."""
        mine = self.prefix.replace("_", r"\_") + "%"
        out = self.psql(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'ist\\_%' "
            f"AND datname NOT LIKE '{mine}'"
        )
        busy = self.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE usename LIKE 'ist\\_%' "
            f"AND usename NOT LIKE '{mine}'"
        )
        return int(out.strip() or 0) > 0 or int(busy.strip() or 0) > 0

    def create_database(self) -> str:
        """A new empty database owned by the test administrator."""
        self._databases += 1
        name = f"{self.prefix}_{self._databases}"
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop a test database and the station roles named after it."""
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            roles = conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
                (name.replace("_", r"\_") + r"\_%",),
            ).fetchall()
            for (role,) in roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _clusters() -> list[list[str]]:
    if shutil.which("pg_lsclusters") is None:
        return []
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines() if line.strip()]


def find_or_start_server() -> PgServer:
    """The local cluster, started if needed, with the test administrator role created."""
    clusters = _clusters()
    wanted = os.environ.get("INSPECT_STATION_PG_CLUSTER")
    if wanted:
        clusters = [c for c in clusters if f"{c[0]}/{c[1]}" == wanted]
    if not clusters:
        pytest.fail(
            "These tests need a real PostgreSQL server: install the Debian `postgresql` package "
            "(pg_lsclusters lists no cluster"
            + (f" named {wanted}" if wanted else "")
            + "). They do not skip.",
            pytrace=False,
        )
    version, cluster, port, status = clusters[0][:4]
    server = PgServer(version, cluster, int(port), started_here=status != "online")
    try:
        if server.started_here:
            server.ctl("start")
        server.psql(
            f"CREATE ROLE {server.admin_role} LOGIN CREATEDB CREATEROLE "
            f"PASSWORD '{server.password}'; GRANT pg_signal_backend TO {server.admin_role}"
        )
        server.wait_ready()
    except Exception as exc:
        pytest.fail(
            f"Could not start or use PostgreSQL {version}/{cluster} on port {port} for the tests "
            f"(run them as root or as the postgres user): {exc}",
            pytrace=False,
        )
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A running PostgreSQL server with a test administrator role (see the module docstring)."""
    server = find_or_start_server()
    try:
        yield server
    finally:
        try:
            server.ctl("start")  # a test may have left it stopped
            server.wait_ready()
            with server.connect() as conn:
                for (name,) in conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s",
                    (server.prefix.replace("_", r"\_") + r"\_%",),
                ).fetchall():
                    server.drop_database(name)
            server.psql(
                f"DROP OWNED BY {server.admin_role}; DROP ROLE IF EXISTS {server.admin_role}"
            )
        finally:
            if server.started_here and not server.others_using():
                server.ctl("stop")


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
