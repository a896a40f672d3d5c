"""Starts the real `tally serve` binary for the SDK tests and stops it afterwards."""

import os
import socket
import subprocess
import time
import urllib.request
import uuid

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def tally_bin() -> str:
    path = os.environ.get("TALLY_BIN", "target/debug/tally")
    assert os.path.exists(path), f"build the binary first: {path}"
    return path


@pytest.fixture(scope="session")
def server_env() -> dict:
    assert os.environ.get("DATABASE_URL"), "DATABASE_URL must point at a Postgres database"
    return {**os.environ, "TALLY_LOG": "warn"}


@pytest.fixture(scope="session")
def token(tally_bin, server_env) -> str:
    """An admin's token of a tenant of this run's own, made as an operator does."""
    tenant = f"sdk-{uuid.uuid4().hex[:12]}"
    subprocess.run([tally_bin, "tenant", "create", tenant, "--name", "SDK tests"], env=server_env, check=True)
    made = subprocess.run(
        [tally_bin, "token", "create", "--tenant", tenant, "--role", "admin", "--name", "sdk tests"],
        env=server_env,
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip()


@pytest.fixture(scope="session")
def server_url(tally_bin, server_env):
    """`tally serve` requiring tokens: no anonymous callers."""
    port = _free_port()
    env = {k: v for k, v in server_env.items() if k != "TALLY_ANONYMOUS_ROLE"}
    proc = subprocess.Popen(
        [tally_bin, "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:  # readiness, bounded: the server answers /readyz once migrated and listening
        assert proc.poll() is None, "tally serve exited during startup"
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1) as res:
                if res.status == 200:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "tally serve did not become ready in 60 s"
        time.sleep(0.1)
    yield f"{base}/mcp"
    proc.terminate()
    assert proc.wait(timeout=30) == 0, "tally serve exits 0 on SIGTERM"
