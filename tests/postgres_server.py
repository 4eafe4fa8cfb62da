"""A PostgreSQL server of the tests' own, with password authentication, for the studies shared over a network."""

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

# A password no file, message or command line of the tool may hold; random, so a leak cannot hide in a fixture.
PASSWORD = f"S3cretPW_{secrets.token_hex(8)}"


def _tool(name):
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: p.parts[-3])
    return str(versions[-1]) if versions else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """The server's URL, ``postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres``; every login needs the password."""
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL is not installed (no initdb and pg_ctl on PATH or in /usr/lib/postgresql/*/bin)")
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed: pip install 'vae-cli[postgres]'")
    base = Path(tempfile.mkdtemp(prefix="vae-pg-", dir="/tmp"))
    as_owner = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as postgres, in a folder postgres owns
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base)
            pytest.skip("running as root and there is no postgres user to run the server as")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port, pwfile = base / "data", _free_port(), base / "pw"
    pwfile.write_text(PASSWORD)
    if as_owner:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    run = lambda *args: subprocess.run(as_owner + list(args), check=True, capture_output=True, text=True)  # noqa: E731
    run(initdb, "-D", str(data), "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={pwfile}", "--no-sync")
    pwfile.unlink()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
    run(pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "-t", "60", "start")
    try:
        yield f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_owner + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
