"""Re-records tests/sessions/ with the scripted agents in agents.py (`make sessions`).

For each scenario (all of them, or those named on the command line): a fresh database, a
`tally serve --record-dir` of its own (or, for stdio scenarios, the `tally stdio` child the SDK
starts), the agent, a clean shutdown that flushes the recording, and exactly one recorded
session moved to tests/sessions/<scenario>.jsonl. The database is dropped afterwards.

Environment: DATABASE_URL (an admin URL of the cluster; databases are created beside it) and
TALLY_BIN (default target/debug/tally); `psql` creates and drops the databases. Exits non-zero
when any agent fails; a failed scenario leaves its committed recording untouched.

    .venv/bin/python tests/agents/record.py [--out DIR] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path

from mcp import Client, StdioServerParameters
from mcp.types import Implementation

sys.path.insert(0, str(Path(__file__).resolve().parent))
import agents  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(admin_url: str, sql: str) -> None:
    subprocess.run(
        ["psql", admin_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
    )


def database_url(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


class Server:
    """`tally serve` on a free loopback port, recording into `record_dir`."""

    def __init__(self, tally: str, db_url: str, record_dir: Path, flags: list[str], log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "TALLY_LOG": os.environ.get("TALLY_LOG", "warn"),
            # Scenarios are recorded as a laptop's `make run` serves them: no token.
            "TALLY_ANONYMOUS_ROLE": "admin",
        }
        args = [tally, "serve", "--bind", f"127.0.0.1:{self.port}", "--record-dir", str(record_dir), *flags]
        with open(log, "wb") as err:
            self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tally serve exited during startup:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=1) as res:
                    if res.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"tally serve was not ready in {READY_TIMEOUT_S} s")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def stop(self) -> None:
        """SIGTERM, then wait: the server flushes every recording before it exits."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"tally serve did not stop within {STOP_TIMEOUT_S} s of SIGTERM") from None
        if rc != 0:
            raise RuntimeError(f"tally serve exited with {rc} on SIGTERM:\n{self.log.read_text()}")


async def run_agent(scenario: agents.Scenario, target: str | StdioServerParameters) -> None:
    info = Implementation(name=scenario.name, version="1.0.0")
    async with Client(target, client_info=info, mode=scenario.mode) as client:
        await scenario.agent(client)


def record(scenario: agents.Scenario, tally: str, admin_url: str, out_dir: Path) -> Path:
    """Records one scenario; returns the committed file."""
    db = f"rec_{scenario.name}"
    db_url = database_url(admin_url, db)
    psql(admin_url, f"drop database if exists {db} with (force)")
    psql(admin_url, f"create database {db}")
    try:
        with tempfile.TemporaryDirectory(prefix=f"tally-rec-{scenario.name}-") as tmp:
            record_dir = Path(tmp) / "sessions"
            log = Path(tmp) / "server.log"
            if scenario.transport == "stdio":
                env = {
                    "DATABASE_URL": db_url,
                    "TALLY_LOG": os.environ.get("TALLY_LOG", "warn"),
                    "PATH": os.environ.get("PATH", ""),
                }
                params = StdioServerParameters(
                    command=tally, args=["stdio", "--record-dir", str(record_dir), *scenario.flags], env=env
                )
                asyncio.run(run_agent(scenario, params))
            else:
                server = Server(tally, db_url, record_dir, scenario.flags, log)
                try:
                    asyncio.run(run_agent(scenario, server.url))
                finally:
                    server.stop()
            written = sorted(record_dir.glob("*.jsonl")) if record_dir.exists() else []
            if len(written) != 1:
                raise RuntimeError(f"expected exactly one recorded session, found {[p.name for p in written]}")
            (recorded,) = written
            expected_prefix = f"{scenario.transport}-{scenario.name}-"
            if not recorded.name.startswith(expected_prefix):
                raise RuntimeError(f"recorded file {recorded.name} does not start with {expected_prefix}")
            header = json.loads(recorded.read_text().splitlines()[0])
            if (header.get("client_info") or {}).get("name") != scenario.name:
                raise RuntimeError(f"the header names client {header.get('client_info')}, not {scenario.name}")
            out_dir.mkdir(parents=True, exist_ok=True)
            dest = out_dir / f"{scenario.name}.jsonl"
            shutil.move(str(recorded), dest)
            return dest
    finally:
        psql(admin_url, f"drop database if exists {db} with (force)")


def innermost(e: BaseException) -> BaseException:
    """The agent's own exception, out of the SDK's task-group wrapping."""
    while isinstance(e, BaseExceptionGroup) and len(e.exceptions) == 1:
        e = e.exceptions[0]
    return e


def summarize(path: Path) -> str:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    header, messages = lines[0], lines[1:]
    requests = [m["message"] for m in messages if m["dir"] == "in"]
    calls = sum(1 for r in requests if r.get("method") == "tools/call")
    throttled = sum(1 for m in messages if m["dir"] == "out" and m.get("status") in (429, 503))
    throttled += sum(
        1
        for m in messages
        if m["dir"] == "out"
        and header["transport"] == "stdio"
        and (m.get("message") or {}).get("error", {}).get("data", {}).get("retryable")
    )
    extra = f", {throttled} throttled" if throttled else ""
    return f"{len(requests)} steps, {calls} tool calls{extra}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    parser.add_argument("--out", default=str(REPO / "tests" / "sessions"), help="where recordings go")
    args = parser.parse_args()

    admin_url = os.environ.get("DATABASE_URL")
    if not admin_url:
        print("record.py: DATABASE_URL must be set (an admin URL of the Postgres cluster)", file=sys.stderr)
        return 2
    tally = os.path.abspath(os.environ.get("TALLY_BIN", str(REPO / "target" / "debug" / "tally")))
    if not os.path.exists(tally):
        print(f"record.py: no binary at {tally}; run `cargo build --bin tally`", file=sys.stderr)
        return 2
    unknown = [s for s in args.scenarios if s not in agents.SCENARIOS]
    if unknown:
        print(f"record.py: unknown scenario(s) {unknown}; known: {sorted(agents.SCENARIOS)}", file=sys.stderr)
        return 2
    names = args.scenarios or list(agents.SCENARIOS)

    failed = []
    for name in names:
        scenario = agents.SCENARIOS[name]
        started = time.monotonic()
        try:
            dest = record(scenario, tally, admin_url, Path(args.out))
        except Exception as e:  # noqa: BLE001 - report every scenario, then fail
            failed.append(name)
            cause = innermost(e)
            print(f"FAIL  {name}: {type(cause).__name__}: {cause}", flush=True)
            traceback.print_exception(cause, file=sys.stderr)
            continue
        took = time.monotonic() - started
        shown = dest.resolve().relative_to(REPO) if dest.resolve().is_relative_to(REPO) else dest
        print(f"ok    {name:<34} {shown} ({summarize(dest)}; {took:.1f}s)", flush=True)
    print(f"{len(names) - len(failed)} recorded, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
