"""The official MCP Python SDK (a real client) against the real binary, over HTTP and stdio."""

import time
import uuid

import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio

TOOLS = {"create_invoice", "get_invoice", "list_invoices"}


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


async def test_http_auto_mode_falls_back_at_once_and_bills(server_url):
    started = time.monotonic()
    async with Client(server_url) as client:
        connected = time.monotonic() - started
        assert connected < 5, f"the server/discover probe stalled the connect for {connected:.1f}s"
        assert client.session.protocol_version == "2025-11-25"
        await _bill_and_list(client)


async def test_http_legacy_mode(server_url):
    async with Client(server_url, mode="legacy") as client:
        await _bill_and_list(client)


async def test_stdio(tally_bin, server_env):
    params = StdioServerParameters(command=tally_bin, args=["stdio"], env=server_env)
    async with Client(params) as client:
        await _bill_and_list(client)
