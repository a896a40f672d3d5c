"""The MCP Inspector CLI (a second real client, on Node 22 from npm) against the real binary:
listing and calling tools over HTTP (with a bearer token) and stdio, in both protocol eras."""

import json
import os
import subprocess
import uuid

import pytest

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"


def inspector(*args: str, env: dict | None = None) -> dict:
    """One `mcp-inspector --cli` command; returns its JSON output."""
    quoted = " ".join(f"'{a}'" for a in args)
    done = subprocess.run(
        ["npx", "-y", "-p", "node@22", "-p", INSPECTOR, "-c", f"mcp-inspector --cli --format json -q {quoted}"],
        env=env or os.environ, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"rc={done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


def invoice_args() -> str:
    return json.dumps({"customer_id": f"insp_{uuid.uuid4().hex[:8]}",
                       "line_items": [{"description": "Widget", "amount_cents": 1000}]})


@pytest.mark.parametrize(("era", "version"), [("modern", "2026-07-28"), ("legacy", "2025-11-25"),
                                              ("auto", "2026-07-28")])
def test_inspector_over_http(server_url, token, era, version):
    target = [server_url, "--header", f"Authorization: Bearer {token}", "--protocol-era", era]
    init = inspector(*target, "--method", "initialize")
    assert init["result"]["protocolVersion"] == version, init
    assert init["result"]["serverInfo"]["name"] == "tally"
    listed = inspector(*target, "--method", "tools/list")
    assert "create_invoice" in {t["name"] for t in listed["result"]["tools"]}
    created = inspector(*target, "--method", "tools/call", "--tool-name", "create_invoice",
                        "--tool-args-json", invoice_args())
    assert created["result"]["structuredContent"]["status"] == "draft", created


@pytest.mark.parametrize(("era", "version"), [("modern", "2026-07-28"), ("legacy", "2025-11-25")])
def test_inspector_over_stdio(tally_bin, server_env, token, era, version):
    stdio = ["-e", f"DATABASE_URL={server_env['DATABASE_URL']}", "-e", "TALLY_LOG=warn", "-e", f"TALLY_TOKEN={token}",
             "--protocol-era", era]
    command = ["--", os.path.abspath(tally_bin), "stdio"]
    init = inspector(*stdio, "--method", "initialize", *command)
    assert init["result"]["protocolVersion"] == version, init
    created = inspector(*stdio, "--method", "tools/call", "--tool-name", "create_invoice",
                        "--tool-args-json", invoice_args(), *command)
    assert created["result"]["structuredContent"]["status"] == "draft", created
