"""Taxes through the official Python SDK: a German seller's invoice at 19 % and 7 % with a 10 %
discount and a reverse-charge invoice to a French business, and a US seller's invoice with state
and county sales tax. Each is sent; its PDF shows the breakdown and the wording the law requires;
list_outstanding and the statement agree with the grand total. Figures are worked out by hand."""

import base64
import datetime
import subprocess
import uuid

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

pytestmark = pytest.mark.anyio


def _tenant_token(tally_bin, server_env, label: str) -> str:
    """An admin's token of a tenant of its own: tax settings are per tenant."""
    tenant = f"tax-{label}-{uuid.uuid4().hex[:8]}"
    subprocess.run([tally_bin, "tenant", "create", tenant, "--name", label], env=server_env, check=True)
    made = subprocess.run(
        [tally_bin, "token", "create", "--tenant", tenant, "--role", "admin", "--name", "tax tests"],
        env=server_env, check=True, capture_output=True, text=True,
    )
    return made.stdout.strip()


def _connect(url: str, token: str) -> Client:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return Client(streamable_http_client(url, http_client=http))


async def _call(client: Client, tool: str, args: dict) -> dict:
    result = await client.call_tool(tool, args)
    assert not result.is_error, (tool, result.content)
    return result.structured_content


async def _pdf_text(client: Client, invoice_id: str) -> str:
    await _call(client, "render_invoice", {"invoice_id": invoice_id})
    read = await client.read_resource(f"invoice://{invoice_id}/pdf")
    [content] = read.contents
    pdf = base64.b64decode(content.blob)
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


async def _agrees(client: Client, customer: str, total: int) -> None:
    """The ledger's reports agree with the invoice's grand total."""
    [balance] = (await _call(client, "list_outstanding", {"customer_id": customer}))["balances"]
    assert balance["outstanding_cents"] == total, balance
    since = (datetime.date.today() - datetime.timedelta(days=31)).isoformat()
    [section] = (await _call(client, "get_statement", {"customer_id": customer, "from": since}))["sections"]
    assert section["closing_cents"] == total, section


async def test_a_german_seller_invoices_mixed_rates_with_a_discount_and_a_reverse_charge(
    server_url, tally_bin, server_env
):
    token = _tenant_token(tally_bin, server_env, "de")
    async with _connect(server_url, token) as client:
        await _call(client, "set_business_profile", {"legal_name": "Muster GmbH", "tax_id": "DE136695976"})
        await _call(client, "set_tax_settings", {"tax_mode": "vat"})
        standard = (await _call(client, "create_tax_rate", {"name": "USt 19 %", "kind": "vat", "percent": 19, "category": "S"}))["tax_rate_id"]
        reduced = (await _call(client, "create_tax_rate", {"name": "USt 7 %", "kind": "vat", "percent": 7, "category": "S"}))["tax_rate_id"]
        reverse = (await _call(client, "create_tax_rate", {"name": "Reverse charge", "kind": "vat", "percent": 0, "category": "AE"}))["tax_rate_id"]
        await _call(client, "upsert_customer", {"customer_id": "kunde", "name": "Kunde AG", "currency": "EUR", "tax_id": "DE136695976"})
        await _call(client, "upsert_customer", {"customer_id": "client-fr", "name": "Client SARL", "currency": "EUR", "tax_id": "FR40303265045"})

        # 1.5 h × 120.00 = 180.00 at 19 %; 3 × 29.99 = 89.97 at 7 %; 10 % off 269.97 = 27.00,
        # split 18.00 / 9.00; VAT 19 % of 162.00 = 30.78, 7 % of 80.97 = 5.67; total 279.42.
        draft = await _call(client, "create_invoice", {
            "customer_id": "kunde", "currency": "EUR",
            "line_items": [
                {"description": "Beratung", "amount_cents": 12_000, "quantity": 1.5, "unit": "HUR", "tax_rate_ids": [standard]},
                {"description": "Fachbuch", "amount_cents": 2_999, "quantity": 3, "tax_rate_ids": [reduced]},
            ],
            "allowances": [{"reason": "Treuerabatt", "percent": 10}],
        })
        assert draft["total_cents"] == 27_942 and draft["tax_cents"] == 3_645, draft
        sent = await _call(client, "send_invoice", {"invoice_id": draft["invoice_id"]})
        assert sent["total_cents"] == 27_942 and [g["tax_cents"] for g in sent["tax_breakdown"]] == [3_078, 567]
        text = await _pdf_text(client, draft["invoice_id"])
        for printed in ["VAT 19 % on 162.00 EUR", "VAT 7 % on 80.97 EUR", "Treuerabatt (10 %)", "−27.00 EUR",
                        "279.42 EUR", "TAX BREAKDOWN", "VAT ID: DE136695976"]:
            assert printed in text, (printed, text)
        await _agrees(client, "kunde", 27_942)

        # Reverse charge: 8 × 150.00 = 1,200.00, no VAT; both VAT ids and the words on the PDF.
        rc = await _call(client, "create_invoice", {
            "customer_id": "client-fr", "currency": "EUR",
            "line_items": [{"description": "Software services", "amount_cents": 15_000, "quantity": 8, "tax_rate_ids": [reverse]}],
        })
        sent = await _call(client, "send_invoice", {"invoice_id": rc["invoice_id"]})
        assert sent["total_cents"] == 120_000 and sent["tax_cents"] == 0
        assert sent["tax_breakdown"][0]["category"] == "AE" and sent["tax_breakdown"][0]["exemption_reason"] == "Reverse charge"
        text = await _pdf_text(client, rc["invoice_id"])
        for printed in ["Reverse charge", "VAT ID: FR40303265045", "VAT ID: DE136695976", "1,200.00 EUR"]:
            assert printed in text, (printed, text)
        await _agrees(client, "client-fr", 120_000)


async def test_a_us_seller_adds_state_and_county_sales_tax(server_url, tally_bin, server_env):
    token = _tenant_token(tally_bin, server_env, "us")
    async with _connect(server_url, token) as client:
        await _call(client, "set_business_profile", {"legal_name": "Golden State Supply LLC"})
        await _call(client, "set_tax_settings", {"tax_mode": "sales_tax"})
        state = (await _call(client, "create_tax_rate", {"name": "California", "kind": "sales_tax", "percent": 6.25, "jurisdiction": "CA"}))["tax_rate_id"]
        county = (await _call(client, "create_tax_rate", {"name": "Los Angeles County", "kind": "sales_tax", "percent": 1, "jurisdiction": "Los Angeles County"}))["tax_rate_id"]
        await _call(client, "upsert_customer", {"customer_id": "la-shop", "name": "LA Shop Inc.", "currency": "USD"})
        # 3 × 49.99 = 149.97 taxed; state 6.25 % = 9.373125 → 9.37; county 1 % = 1.4997 → 1.50;
        # total 149.97 + 10.87 = 160.84.
        made = await _call(client, "create_invoice", {
            "customer_id": "la-shop", "currency": "USD",
            "line_items": [{"description": "Widget", "amount_cents": 4_999, "quantity": 3, "tax_rate_ids": [state, county]}],
        })
        assert [g["tax_cents"] for g in made["tax_breakdown"]] == [937, 150], made
        sent = await _call(client, "send_invoice", {"invoice_id": made["invoice_id"]})
        assert sent["total_cents"] == 16_084
        text = await _pdf_text(client, made["invoice_id"])
        for printed in ["CA 6.25 % on 149.97 USD", "Los Angeles County 1 % on 149.97 USD", "Jurisdiction", "160.84 USD"]:
            assert printed in text, (printed, text)
        await _agrees(client, "la-shop", 16_084)
