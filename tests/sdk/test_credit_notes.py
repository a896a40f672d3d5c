"""Corrections through the official Python SDK, as an agent makes them: a sent, partly paid VAT
invoice corrected by a credit note for one line (what was due is reduced, what was paid already is
refunded), a second credit note kept as the customer's credit, that credit applied to a new
invoice, and another invoice written off. The statement PDF shows every step, and its closing
balance is list_outstanding's. Figures are worked out by hand in the comments."""

import base64
import datetime
import subprocess
import uuid

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

pytestmark = pytest.mark.anyio


def _tenant_token(tally_bin, server_env) -> str:
    """An admin's token of a tenant of its own: its number series start at 1."""
    tenant = f"cn-{uuid.uuid4().hex[:8]}"
    subprocess.run([tally_bin, "tenant", "create", tenant, "--name", "Muster GmbH"], env=server_env, check=True)
    made = subprocess.run(
        [tally_bin, "token", "create", "--tenant", tenant, "--role", "admin", "--name", "credit note tests"],
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


async def _refused(client: Client, tool: str, args: dict) -> dict:
    result = await client.call_tool(tool, args)
    assert result.is_error, (tool, result.structured_content)
    return result.structured_content["error"]


async def _pdf_text(client: Client, uri: str) -> str:
    read = await client.read_resource(uri)
    [content] = read.contents
    pdf = base64.b64decode(content.blob)
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


async def _invoice(client: Client, lines: list) -> dict:
    draft = await _call(client, "create_invoice", {"customer_id": "kunde", "currency": "EUR", "line_items": lines,
                                                   "idempotency_key": str(uuid.uuid4())})
    return await _call(client, "send_invoice", {"invoice_id": draft["invoice_id"]})


async def test_an_agent_corrects_refunds_credits_and_writes_off(server_url, tally_bin, server_env):
    token = _tenant_token(tally_bin, server_env)
    async with _connect(server_url, token) as client:
        await _call(client, "set_business_profile", {"legal_name": "Muster GmbH", "tax_id": "DE136695976"})
        await _call(client, "set_tax_settings", {"tax_mode": "vat"})
        standard = (await _call(client, "create_tax_rate", {"name": "USt 19 %", "kind": "vat", "percent": 19, "category": "S"}))["tax_rate_id"]
        reduced = (await _call(client, "create_tax_rate", {"name": "USt 7 %", "kind": "vat", "percent": 7, "category": "S"}))["tax_rate_id"]
        await _call(client, "upsert_customer", {"customer_id": "kunde", "name": "Kunde AG", "currency": "EUR",
                                                "tax_id": "DE136695976"})

        # Invoice 1: 2 × 50.00 at 19 % and a 20.00 book at 7 %: 100.00 + 19.00 + 20.00 + 1.40 = 140.40.
        # 120.00 is paid: 20.40 due.
        first = await _invoice(client, [
            {"description": "Widget", "amount_cents": 5_000, "quantity": 2, "tax_rate_ids": [standard]},
            {"description": "Book", "amount_cents": 2_000, "tax_rate_ids": [reduced]},
        ])
        assert first["total_cents"] == 14_040, first
        await _call(client, "apply_payment", {"invoice_id": first["invoice_id"], "amount_cents": 12_000,
                                              "idempotency_key": str(uuid.uuid4())})

        # One widget comes back: 50.00 + 9.50 VAT = 59.50. 20.40 of it reduces what is due; 39.10 was
        # paid already. Without saying where that goes, the agent is told how much and where it may go.
        ask = {"invoice_id": first["invoice_id"], "reason": "product_unsatisfactory",
               "lines": [{"line_no": 1, "quantity": 1}], "memo": "One widget returned damaged"}
        error = await _refused(client, "create_credit_note", ask)
        assert error["errors"][0]["path"] == "excess_to" and "3910 was paid already" in error["errors"][0]["message"], error
        one = await _call(client, "create_credit_note", {**ask, "excess_to": "refund",
                                                         "refund": {"method": "bank_transfer", "reference": "RF-1"},
                                                         "idempotency_key": str(uuid.uuid4())})
        note = one["credit_note"]
        assert (note["number"], note["total_cents"], note["applied_cents"], note["excess_cents"]) == ("CN-000001", 5_950, 2_040, 3_910), note
        assert note["refund"]["amount_cents"] == 3_910 and one["invoice_status"] == "paid", one

        # The book too, after the fact: 21.40, all of it paid already, kept as the customer's credit.
        two = await _call(client, "create_credit_note", {
            "invoice_id": first["invoice_id"], "reason": "order_change", "lines": [{"line_no": 2, "quantity": 1}],
            "excess_to": "customer_credit", "idempotency_key": str(uuid.uuid4())})
        assert (two["credit_note"]["number"], two["credit_note"]["excess_cents"]) == ("CN-000002", 2_140), two
        [balance] = (await _call(client, "list_outstanding", {"customer_id": "kunde"}))["balances"]
        assert (balance["credit_cents"], balance["balance_cents"]) == (2_140, -2_140), balance

        # Invoice 2: one more widget, 59.50; the customer's 21.40 is applied to it: 38.10 due.
        second = await _invoice(client, [{"description": "Widget", "amount_cents": 5_000, "tax_rate_ids": [standard]}])
        applied = await _call(client, "apply_customer_credit", {"invoice_id": second["invoice_id"],
                                                                 "idempotency_key": str(uuid.uuid4())})
        assert (applied["amount_cents"], applied["amount_due_cents"], applied["credit_left_cents"]) == (2_140, 3_810, 0), applied

        # Invoice 3: 10.00 + 1.90 = 11.90; 5.00 arrives, the rest (6.90) will never be paid.
        third = await _invoice(client, [{"description": "Repair", "amount_cents": 1_000, "tax_rate_ids": [standard]}])
        await _call(client, "apply_payment", {"invoice_id": third["invoice_id"], "amount_cents": 500,
                                              "idempotency_key": str(uuid.uuid4())})
        written = await _call(client, "write_off_invoice", {"invoice_id": third["invoice_id"], "reason": "Customer insolvent",
                                                            "idempotency_key": str(uuid.uuid4())})
        assert (written["status"], written["amount_cents"]) == ("written_off", 690), written

        # Everything agrees: 140.40 − 120.00 − 59.50 + 39.10 − 21.40 + 59.50 + 11.90 − 5.00 − 6.90 = 38.10,
        # the 38.10 still due on invoice 2.
        [balance] = (await _call(client, "list_outstanding", {"customer_id": "kunde"}))["balances"]
        assert (balance["outstanding_cents"], balance["credit_cents"], balance["balance_cents"]) == (3_810, 0, 3_810), balance
        today = datetime.date.today().isoformat()
        statement = await _call(client, "get_statement", {"customer_id": "kunde", "from": today, "to": today})
        [section] = statement["sections"]
        assert section["closing_cents"] == balance["balance_cents"], section
        kinds = [(e["kind"], e["charge_cents"], e["credit_cents"]) for e in section["entries"]]
        assert kinds == [
            ("invoice", 14_040, 0), ("payment", 0, 12_000), ("credit_note", 0, 5_950), ("refund", 3_910, 0),
            ("credit_note", 0, 2_140), ("invoice", 5_950, 0), ("credit_applied", 0, 0), ("invoice", 1_190, 0),
            ("payment", 0, 500), ("write_off", 0, 690),
        ], kinds
        text = await _pdf_text(client, statement["document"]["uri"])
        for printed in ["Credit note CN-000001", "Refund for CN-000001", "Credit note CN-000002",
                        f"Credit applied to {second['number']}", f"Written off {third['number']}: Customer insolvent",
                        "38.10 EUR"]:
            assert printed in text, (printed, text)

        # The credit note's own PDF names the invoice it corrects and where the money went.
        rendered = await _call(client, "render_credit_note", {"credit_note_id": note["credit_note_id"]})
        text = await _pdf_text(client, rendered["document"]["uri"])
        for printed in ["Credit note", f"{first['number']} of {first['issue_date']}", "VAT 19 % on 50.00 EUR",
                        "Total credited", "59.50 EUR", "20.40 EUR reduces the amount due", "39.10 EUR was refunded"]:
            assert printed in text, (printed, text)
        invoice = await _call(client, "get_invoice", {"invoice_id": first["invoice_id"]})
        assert [c["number"] for c in invoice["credit_notes"]] == ["CN-000001", "CN-000002"], invoice
        assert invoice["amount_credited_cents"] == 8_090 and invoice["status"] == "paid"
