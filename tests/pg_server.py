"""A throw-away PostgreSQL server for the store tests: the Debian ``postgresql`` package's
``initdb`` and ``pg_ctl``, a cluster in a temporary folder, run as an unprivileged user
(``postgres`` when the tests run as root: PostgreSQL refuses to run as root), on a free
loopback port, trust authentication, fsync off. Stopped at the end of the session.

``CLAUSEWATCH_TEST_PG_URL`` points the tests at a server of your own instead. Without either,
the PostgreSQL tests are skipped — unless ``CLAUSEWATCH_REQUIRE_PG=1`` (set by ``.ci/run``),
which makes a missing server a failure, so CI never passes by skipping them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Unavailable(Exception):
    """No PostgreSQL server can be started here (the reason is the message)."""


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the URL of a running server's ``postgres`` database (user ``clausewatch``)."""
    given = os.environ.get("CLAUSEWATCH_TEST_PG_URL")
    if given:
        yield given
        return
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise Unavailable("initdb/pg_ctl not found (install the postgresql package)")
    prefix: list[str] = []
    root = tempfile.mkdtemp(prefix="clausewatch-pg-")
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and no 'postgres' user to run the server") from None
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = Path(root) / "data", _free_port()

    def call(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise Unavailable(f"{Path(args[0]).name} failed: {done.stderr.strip()[-400:]}")

    try:
        call(initdb, "-D", str(data), "-A", "trust", "-U", "clausewatch", "-E", "UTF8",
             "--no-sync", "--no-instructions")
        call(pg_ctl, "-D", str(data), "-w", "-t", "60", "-l", str(Path(root) / "server.log"),
             "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
             "-c full_page_writes=off -c max_connections=60", "start")
        try:
            yield f"postgresql://clausewatch@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, check=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)
