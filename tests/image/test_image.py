"""The image Nomad runs, started the way the job starts it: the image's entrypoint and user, the
job's arguments and environment (read from nomad/tally.nomad.hcl), against the private cluster.
Run by `make image-test` after `make image` (buildah, no Docker engine)."""

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import hcl2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("TALLY_IMAGE", "tally:local")


def _buildah(*args: str) -> str:
    return subprocess.run(["buildah", *args], check=True, capture_output=True, text=True).stdout


def _strip(value):
    return value.strip('"') if isinstance(value, str) else value


@pytest.fixture(scope="module")
def tasks() -> dict:
    with open(ROOT / "nomad" / "tally.nomad.hcl") as f:
        (jobs,) = hcl2.load(f)["job"]
    ((_, job),) = jobs.items()
    (groups,) = job["group"]
    ((_, group),) = groups.items()
    return {name.strip('"'): body for t in group["task"] for name, body in t.items()}


@pytest.fixture(scope="module")
def config() -> dict:
    return json.loads(_buildah("inspect", "--type", "image", IMAGE))["OCIv1"]["config"]


@pytest.fixture(scope="module")
def container():
    ctr = _buildah("from", "--pull=never", IMAGE).strip()
    yield ctr
    _buildah("rm", ctr)


def _command(container: str, config: dict, args: list, env: dict) -> list:
    """`buildah run` of the image's entrypoint with `args`, as the image's user (the job sets none)."""
    flags = [f"--env={k}={v}" for k, v in env.items()]
    return ["buildah", "run", "--isolation", "chroot", "--user", config["User"], *flags, container, "--",
            *config["Entrypoint"], *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str, body: bytes | None = None) -> int:
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=5) as res:
            return res.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0  # not listening yet


def _duration_s(text: str) -> float:
    return float(text.rstrip("s")) if text.endswith("s") and not text.endswith("ms") else float(text[:-1]) * 60


def _serving_process(bind: str) -> int:
    """The pid of the image's `tally serve` bound to `bind` (chroot isolation shares the host's
    process table)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline[:2] == [b"/usr/local/bin/tally", b"serve"] and f"TALLY_BIND={bind}".encode() in environ:
            return int(proc.name)
    raise AssertionError(f"no tally serve bound to {bind}")


async def test_the_image_runs_as_the_job_runs_it(tasks, config, container):
    owner_url = os.environ["DATABASE_URL"]
    app_url = subprocess.run(["bash", ".ci/pg.sh", "app-url"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.strip()
    migrate, serve = tasks["migrate"], tasks["tally"]

    # The prestart task: migrate as the schema's owner.
    migrate_args = [_strip(a) for a in migrate["config"][0]["args"]]
    done = subprocess.run(_command(container, config, migrate_args, {"DATABASE_URL": owner_url}),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    # The server, with the job's environment; only the address is this machine's (chroot isolation
    # shares the host's network, where 8080 may be taken).
    env = {k: str(_strip(v)) for k, v in serve["env"][0].items()}
    bind = f"127.0.0.1:{_free_port()}"
    env.update({"DATABASE_URL": app_url, "TALLY_BIND": bind})
    args = [_strip(a) for a in serve["config"][0]["args"]]
    server = subprocess.Popen(_command(container, config, args, env), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://{bind}"
    try:
        deadline = time.monotonic() + 60
        while _status(f"{base}/readyz") != 200:
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, "the image's server did not become ready in 60 s"
            time.sleep(0.2)
        assert _status(f"{base}/healthz") == 200
        init = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "image-test", "version": "1"}}})
        assert _status(f"{base}/mcp", init.encode()) == 401, "an anonymous call is refused"

        pid = _serving_process(bind)
        uid = next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("Uid:"))
        assert uid == "10001", f"the server runs as uid {uid}, not the image's non-root user"

        # A token made with the image's own binary, as an operator would, then a real session.
        tenant = f"image-{uuid.uuid4().hex[:8]}"
        cli = {"DATABASE_URL": owner_url}
        subprocess.run(_command(container, config, ["tenant", "create", tenant, "--name", "Image test"], cli),
                       check=True, capture_output=True, timeout=60)
        token = subprocess.run(
            _command(container, config, ["token", "create", "--tenant", tenant, "--role", "admin", "--name", "image"], cli),
            check=True, capture_output=True, text=True, timeout=60).stdout.strip()
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
            await client.call_tool("upsert_customer", {"customer_id": "c1", "name": "Image Test Ltd", "currency": "EUR"})
            made = await client.call_tool("create_invoice", {
                "customer_id": "c1", "currency": "EUR", "line_items": [{"description": "Ölgä's widget", "amount_cents": 1250}]})
            invoice_id = made.structured_content["invoice_id"]
            sent = await client.call_tool("send_invoice", {"invoice_id": invoice_id})
            assert not sent.is_error, sent.content
            rendered = await client.call_tool("render_invoice", {"invoice_id": invoice_id})
            assert not rendered.is_error, rendered.content
            read = await client.read_resource(f"invoice://{invoice_id}/pdf")
            pdf = base64.b64decode(read.contents[0].blob)
        assert pdf.startswith(b"%PDF-")
        fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        rows = fonts.splitlines()[2:]
        assert rows and all(" yes " in row for row in rows), f"every font is the image's own, embedded:\n{fonts}"

        # A stop as Nomad makes it: SIGTERM, and a clean exit within the job's shutdown grace.
        grace = _duration_s(str(_strip(serve["env"][0]["TALLY_SHUTDOWN_GRACE"])))
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        assert server.wait(timeout=grace + 5) == 0, server.stderr.read()
        took = time.monotonic() - started
        assert took < grace, f"stopped in {took:.1f} s, beyond the grace of {grace} s"
    finally:
        if server.poll() is None:
            server.kill()
