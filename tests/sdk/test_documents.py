"""Documents through the official Python SDK: an agent renders an invoice and a statement, then
reads both PDFs through resources/read, in both protocol eras."""

import base64
import datetime
import hashlib
import uuid

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

pytestmark = pytest.mark.anyio


def _connect(url: str, token: str, **options) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(url, http_client=http), **options)


async def _read_pdf(client: Client, uri: str) -> bytes:
    read = await client.read_resource(uri)
    [content] = read.contents
    assert content.mime_type == "application/pdf", content
    pdf = base64.b64decode(content.blob)
    assert pdf.startswith(b"%PDF-"), pdf[:16]
    return pdf


def _link(result, uri: str):
    links = [c for c in result.content if c.type == "resource_link"]
    assert [str(link.uri) for link in links] == [uri], result.content
    return links[0]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_an_agent_renders_an_invoice_and_a_statement_and_reads_both(server_url, token, mode):
    options = {} if mode == "auto" else {"mode": "legacy"}
    async with _connect(server_url, token, **options) as client:
        customer = f"cust_{uuid.uuid4().hex[:12]}"
        await client.call_tool("upsert_customer", {
            "customer_id": customer, "name": "Ölgä Παπαδοπούλου", "currency": "EUR",
            "billing_address": "Hafenstraße 12\n20457 Hamburg",
        })
        made = await client.call_tool("create_invoice", {
            "customer_id": customer, "currency": "EUR",
            "line_items": [{"description": "Consulting", "amount_cents": 120_000, "quantity": 2}],
        })
        invoice_id = made.structured_content["invoice_id"]
        await client.call_tool("send_invoice", {"invoice_id": invoice_id})
        await client.call_tool("apply_payment", {"invoice_id": invoice_id, "amount_cents": 40_000})

        rendered = await client.call_tool("render_invoice", {"invoice_id": invoice_id})
        assert not rendered.is_error, rendered
        out = rendered.structured_content
        assert out["amount_due_cents"] == 200_000 and out["amount_due_formatted"] == "2000.00 EUR"
        doc = out["document"]
        uri = f"invoice://{invoice_id}/pdf"
        assert doc["uri"] == uri and doc["standard"] == "PDF/A-3u" and doc["embedded"] is False
        link = _link(rendered, uri)
        assert link.mime_type == "application/pdf" and link.size == doc["size_bytes"]
        pdf = await _read_pdf(client, uri)
        assert len(pdf) == doc["size_bytes"]
        assert hashlib.sha256(pdf).hexdigest() == doc["sha256"]

        today = datetime.date.today()
        since = (today - datetime.timedelta(days=31)).isoformat()
        statement = await client.call_tool("get_statement", {"customer_id": customer, "from": since})
        assert not statement.is_error, statement
        st = statement.structured_content
        [section] = st["sections"]
        assert section["currency"] == "EUR" and section["closing_cents"] == 200_000
        assert [e["kind"] for e in section["entries"]] == ["invoice", "payment"]
        outstanding = await client.call_tool("list_outstanding", {"customer_id": customer})
        [balance] = outstanding.structured_content["balances"]
        assert balance["outstanding_cents"] == section["closing_cents"]
        link = _link(statement, st["document"]["uri"])
        pdf = await _read_pdf(client, str(link.uri))
        assert hashlib.sha256(pdf).hexdigest() == st["document"]["sha256"]

        embedded = await client.call_tool("render_invoice", {"invoice_id": invoice_id, "embed": True})
        [blob] = [c for c in embedded.content if c.type == "resource"]
        assert base64.b64decode(blob.resource.blob) == await _read_pdf(client, uri)
