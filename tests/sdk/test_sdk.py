"""The official MCP Python SDK (a real client) against the real binary, over HTTP and stdio."""

import time
import uuid

import json
import urllib.error
import urllib.request

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

pytestmark = pytest.mark.anyio

TOOLS = {"create_invoice", "get_invoice", "list_invoices"}


def _connect(url: str, token: str, **options) -> Client:
    """The SDK over Streamable HTTP, presenting `token` as `Authorization: Bearer`."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(url, http_client=http), **options)


async def _bill_and_list(client: Client) -> None:
    """What an agent does: list tools, create invoices, read them back."""
    listed = await client.list_tools()
    assert TOOLS <= {t.name for t in listed.tools}
    customer = f"cust_{uuid.uuid4().hex[:12]}"
    ids = []
    for cents in (1000, 2500):
        result = await client.call_tool(
            "create_invoice",
            {
                "customer_id": customer,
                "line_items": [{"description": "Widget", "amount_cents": cents, "quantity": 2}],
                "idempotency_key": str(uuid.uuid4()),
            },
        )
        assert not result.is_error, result
        invoice = result.structured_content
        assert invoice["status"] == "draft"
        assert invoice["total_cents"] == cents * 2
        ids.append(invoice["invoice_id"])
    page = await client.call_tool("list_invoices", {"customer_id": customer})
    assert not page.is_error
    assert [i["invoice_id"] for i in page.structured_content["invoices"]] == ids[::-1]
    got = await client.call_tool("get_invoice", {"invoice_id": ids[0]})
    assert got.structured_content["line_items"][0]["amount_cents"] == 1000

    bad = await client.call_tool("create_invoice", {"customer_id": customer, "line_items": [{"amount_cents": "10"}]})
    assert bad.is_error
    errors = {e["path"]: e for e in bad.structured_content["error"]["errors"]}
    assert errors["line_items[0].description"]["code"] == "required"
    assert errors["line_items[0].amount_cents"]["code"] == "invalid_type"


async def test_http_default_mode_negotiates_2026_07_28_and_bills(server_url, token):
    """The SDK's default probes server/discover; Tally answers it, so the stateless era is used."""
    started = time.monotonic()
    async with _connect(server_url, token) as client:
        connected = time.monotonic() - started
        assert connected < 5, f"the server/discover probe took {connected:.1f}s"
        assert client.session.protocol_version == "2026-07-28"
        assert client.session.server_info.name == "tally"
        await _bill_and_list(client)


async def test_http_legacy_mode(server_url, token):
    async with _connect(server_url, token, mode="legacy") as client:
        assert client.session.protocol_version == "2025-11-25"
        await _bill_and_list(client)


async def test_http_without_a_token_is_401_with_a_challenge(server_url):
    body = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).encode()
    req = urllib.request.Request(server_url, data=body, headers={
        "content-type": "application/json", "accept": "application/json, text/event-stream"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=10)
    assert refused.value.code == 401
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio(tally_bin, server_env, token, mode):
    params = StdioServerParameters(command=tally_bin, args=["stdio"], env={**server_env, "TALLY_TOKEN": token})
    async with Client(params, mode=mode) as client:
        expected = "2026-07-28" if mode == "auto" else "2025-11-25"
        assert client.session.protocol_version == expected
        await _bill_and_list(client)


async def test_receivables_agent_session(server_url, token):
    """The receivables run an agent does for a small business, over the official SDK."""
    run = uuid.uuid4().hex[:8]
    customer = f"acme_{run}"

    async def ok(client, tool, args):
        result = await client.call_tool(tool, args)
        assert not result.is_error, (tool, result.structured_content)
        print(f"{tool} -> ok")
        return result.structured_content

    async with _connect(server_url, token) as tally:
        onboarded = await ok(tally, "upsert_customer", {
            "customer_id": customer, "name": f"Acme {run}", "email": "ap@acme.example", "payment_terms_days": 14})
        assert onboarded["created"] is True

        ids = []
        for cents in (12_000, 30_000, 5_000):
            inv = await ok(tally, "create_invoice", {
                "customer_id": customer, "idempotency_key": str(uuid.uuid4()),
                "line_items": [{"description": "Consulting", "amount_cents": cents}]})
            ids.append(inv["invoice_id"])
        numbers = []
        for invoice_id in ids:
            sent = await ok(tally, "send_invoice", {"invoice_id": invoice_id, "idempotency_key": str(uuid.uuid4())})
            assert sent["status"] == "sent" and sent["number"].startswith("INV-")
            numbers.append(int(sent["number"][4:]))
        assert numbers == list(range(numbers[0], numbers[0] + 3)), "consecutive numbers"

        part = await ok(tally, "apply_payment", {"invoice_id": ids[0], "amount_cents": 4_000, "method": "bank_transfer",
                                                 "idempotency_key": str(uuid.uuid4())})
        assert (part["status"], part["amount_due_cents"]) == ("sent", 8_000)
        full = await ok(tally, "apply_payment", {"invoice_id": ids[0], "amount_cents": 8_000,
                                                 "idempotency_key": str(uuid.uuid4())})
        assert (full["status"], full["amount_due_cents"]) == ("paid", 0)

        over = await tally.call_tool("apply_payment", {"invoice_id": ids[1], "amount_cents": 30_001})
        assert over.is_error
        error = over.structured_content["error"]
        print("apply_payment (overpayment) ->", error["code"], error["details"])
        assert error["code"] == "overpayment" and error["details"]["amount_due_cents"] == 30_000

        report = await ok(tally, "list_outstanding", {"customer_id": customer})
        (balance,) = report["balances"]
        assert (balance["outstanding_cents"], balance["open_invoices"]) == (35_000, 2)
        assert balance["aging"]["current_cents"] == 35_000

        voided = await ok(tally, "void_invoice", {"invoice_id": ids[2], "reason": "Billed by mistake"})
        assert voided["status"] == "void"
        refused = await tally.call_tool("void_invoice", {"invoice_id": ids[0], "reason": "changed mind"})
        assert refused.is_error and refused.structured_content["error"]["code"] == "invalid_state"

        account = await ok(tally, "get_customer", {"customer_id": customer})
        assert account["outstanding"][0]["outstanding_cents"] == 30_000
        history = (await ok(tally, "get_invoice", {"invoice_id": ids[0]}))["history"]
        assert [e["action"] for e in history] == ["created", "sent", "payment_applied", "payment_applied"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_http_batch_reports_progress_to_the_sdk(server_url, token, mode):
    """The SDK's progress callback sees each invoice of a batch, over SSE, in both eras."""
    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, total))

    customer = f"batch_{uuid.uuid4().hex[:8]}"
    invoices = [{"customer_id": customer, "line_items": [{"description": "Widget", "amount_cents": 100 * (i + 1)}]}
                for i in range(6)]
    async with _connect(server_url, token, mode=mode) as client:
        result = await client.call_tool(
            "create_invoices_batch", {"invoices": invoices, "idempotency_key": str(uuid.uuid4())},
            progress_callback=on_progress)
        assert not result.is_error, result
        assert result.structured_content["completed"] is True
        assert len(result.structured_content["created"]) == 6
    assert seen == [(float(i), 6.0) for i in range(1, 7)], seen
