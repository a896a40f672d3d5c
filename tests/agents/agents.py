"""Scripted business agents whose sessions make up the replay corpus in tests/sessions/.

Each scenario is an async function that takes a connected `mcp.Client`, does what a business
agent would do with Tally, and asserts what it expects, so a broken server fails the recording
run (`make sessions`, which runs record.py). The function's name is the scenario's name, the
client's name in the recording's header, and the stem of tests/sessions/<name>.jsonl.

Every recording is replayed against a fresh database in CI and compared answer by answer, so the
agents are deterministic: fixed customer ids, amounts and idempotency keys (no uuid4), calls one
at a time, and no argument that depends on today. Client dates are either fixed and long past
(due dates in 2020, paid_at 2026-01-15, as_of 2025-06-30) or omitted so that the server derives
them (due dates from payment terms), which replay compares by format. A server-derived due date
is at least the customer's terms away, so nothing flips to overdue between a recording and its
replay on the same day.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import re
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mcp import Client, MCPError

Agent = Callable[[Client], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    agent: Agent
    transport: str = "http"  # or "stdio"
    flags: list[str] = field(default_factory=list)  # extra `tally serve` / `tally stdio` flags
    # "legacy" sends initialize (the sessions recorded before Tally spoke 2026-07-28 are of that
    # era, and stay so when re-recorded); "auto" probes server/discover and, with Tally, uses the
    # stateless 2026-07-28 era: its calls are recorded as one group keyed by the client.
    mode: str = "legacy"


SCENARIOS: dict[str, Scenario] = {}


def scenario(*, transport: str = "http", flags: list[str] | None = None, mode: str = "legacy"):
    def register(agent: Agent) -> Agent:
        name = agent.__name__
        SCENARIOS[name] = Scenario(name, agent, transport, list(flags or []), mode)
        return agent

    return register


# --- helpers ----------------------------------------------------------------------------------

TOOLS = {
    "upsert_customer",
    "get_customer",
    "list_customers",
    "create_invoice",
    "update_draft_invoice",
    "send_invoice",
    "get_invoice",
    "list_invoices",
    "apply_payment",
    "void_invoice",
    "list_outstanding",
}


async def call(c: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """A tool call that must succeed; returns its structured content."""
    r = await c.call_tool(tool, args)
    assert not r.is_error, f"{tool}({args}) failed: {r.structured_content or r.content}"
    assert r.structured_content is not None, f"{tool} returned no structured content"
    return r.structured_content


async def refused(c: Client, tool: str, args: dict[str, Any], code: str) -> dict[str, Any]:
    """A tool call that must fail with `code`; returns the error object."""
    r = await c.call_tool(tool, args)
    assert r.is_error, f"{tool}({args}) should have been refused with {code}, got {r.structured_content}"
    error = r.structured_content["error"]
    assert error["code"] == code, f"{tool}: expected {code}, got {error}"
    return error


async def discover(c: Client) -> None:
    listed = await c.list_tools()
    names = {t.name for t in listed.tools}
    assert TOOLS <= names, f"missing tools: {TOOLS - names}"


def line(description: str, amount_cents: int, quantity: int = 1) -> dict[str, Any]:
    return {"description": description, "amount_cents": amount_cents, "quantity": quantity}


def total(lines: list[dict[str, Any]]) -> int:
    return sum(item["amount_cents"] * item.get("quantity", 1) for item in lines)


def issued_on(invoice: dict[str, Any]) -> dt.date:
    return dt.date.fromisoformat(invoice["issue_date"])


def number_of(invoice: dict[str, Any]) -> int:
    m = re.fullmatch(r"INV-(\d{6})", invoice["number"] or "")
    assert m, f"unexpected invoice number {invoice['number']!r}"
    return int(m.group(1))


# --- scenarios --------------------------------------------------------------------------------

MONTH_END_CUSTOMERS = [
    # (customer_id, name, email, payment_terms_days)
    ("cust_acme", "Acme Corporation", "ap@acme.example", 30),
    ("cust_globex", "Globex Inc.", "billing@globex.example", 45),
    ("cust_initech", "Initech LLC", "accounts@initech.example", 15),
    ("cust_hooli", "Hooli", "payables@hooli.example", 60),
    ("cust_stark", "Stark Industries", "finance@stark.example", 30),
]


@scenario()
async def month_end_batch(c: Client) -> None:
    """Month-end billing run: 5 customers, 10 invoices each, all sent, then the receivables."""
    await discover(c)
    for customer_id, name, email, terms in MONTH_END_CUSTOMERS:
        got = await call(
            c,
            "upsert_customer",
            {"customer_id": customer_id, "name": name, "email": email, "currency": "USD", "payment_terms_days": terms},
        )
        assert got["created"] is True and got["payment_terms_days"] == terms

    invoices = []  # (invoice_id, customer_id, total)
    for i in range(1, 51):
        customer_id = MONTH_END_CUSTOMERS[(i - 1) // 10][0]
        lines = [line(f"Consulting hours, job {i:03d}", 12_500, 1 + i % 4), line("Expenses", 1_000 + 37 * i)]
        if i % 5 == 0:
            lines.append(line("Hosting, monthly", 4_900))
        inv = await call(
            c,
            "create_invoice",
            {
                "customer_id": customer_id,
                "line_items": lines,
                "memo": f"Month-end batch, item {i} of 50",
                "idempotency_key": f"batch-{i:03d}",
            },
        )
        assert inv["status"] == "draft" and inv["number"] is None
        assert inv["total_cents"] == total(lines), inv
        invoices.append((inv["invoice_id"], customer_id, inv["total_cents"]))

    first_number = None
    terms = {cid: t for cid, _, _, t in MONTH_END_CUSTOMERS}
    for i, (invoice_id, customer_id, _) in enumerate(invoices, start=1):
        sent = await call(c, "send_invoice", {"invoice_id": invoice_id, "idempotency_key": f"batch-send-{i:03d}"})
        assert sent["status"] == "sent", sent
        n = number_of(sent)
        first_number = first_number or n
        assert n == first_number + i - 1, "invoice numbers are gapless, in sending order"
        due = dt.date.fromisoformat(sent["due_date"])
        assert due == issued_on(sent) + dt.timedelta(days=terms[customer_id]), "due date = issue date + terms"

    report = await call(c, "list_outstanding", {})
    balances = {b["customer_id"]: b for b in report["balances"]}
    assert sorted(balances) == sorted(cid for cid, *_ in MONTH_END_CUSTOMERS)
    for customer_id in balances:
        b = balances[customer_id]
        owed = sum(t for _, cid, t in invoices if cid == customer_id)
        assert b["currency"] == "USD" and b["open_invoices"] == 10
        assert b["outstanding_cents"] == owed and b["overdue_cents"] == 0
        assert b["aging"]["current_cents"] == owed


@scenario()
async def partial_payment_reconciliation(c: Client) -> None:
    """Bank statement reconciliation: partial payments with references across three invoices."""
    await discover(c)
    await call(
        c,
        "upsert_customer",
        {
            "customer_id": "cust_northwind",
            "name": "Northwind Traders",
            "email": "ap@northwind.example",
            "payment_terms_days": 30,
        },
    )
    orders = [
        [line("Espresso machines", 45_000, 2), line("Installation", 30_000)],  # 120000
        [line("Coffee beans, 1 kg", 1_850, 30), line("Delivery", 2_050)],  # 57550
        [line("Barista training, per day", 80_000, 3)],  # 240000
    ]
    ids = []
    for n, lines in enumerate(orders, start=1):
        inv = await call(
            c,
            "create_invoice",
            {"customer_id": "cust_northwind", "line_items": lines, "idempotency_key": f"nw-order-{n}"},
        )
        assert inv["total_cents"] == total(lines)
        sent = await call(c, "send_invoice", {"invoice_id": inv["invoice_id"], "idempotency_key": f"nw-send-{n}"})
        assert sent["status"] == "sent"
        ids.append(inv["invoice_id"])

    # The bank statement: (invoice index, amount, method, reference, paid_at)
    statement = [
        (0, 50_000, "bank_transfer", "WIRE-2026-0107", "2026-01-07"),
        (1, 20_000, "card", "CARD-884213", "2026-01-09"),
        (2, 100_000, "bank_transfer", "WIRE-2026-0112", "2026-01-12"),
        (0, 70_000, "bank_transfer", "WIRE-2026-0115", "2026-01-15"),
        (1, 15_000, "check", "CHK-10452", "2026-01-20"),
    ]
    due = {i: total(lines) for i, lines in enumerate(orders)}
    for k, (i, amount, method, reference, paid_at) in enumerate(statement, start=1):
        receipt = await call(
            c,
            "apply_payment",
            {
                "invoice_id": ids[i],
                "amount_cents": amount,
                "method": method,
                "reference": reference,
                "paid_at": paid_at,
                "idempotency_key": f"nw-payment-{k}",
            },
        )
        due[i] -= amount
        assert receipt["amount_due_cents"] == due[i], receipt
        assert receipt["payment"]["reference"] == reference
        assert receipt["status"] == ("paid" if due[i] == 0 else "sent"), receipt

    # A payment that would overpay invoice 2 is refused; the error says how much is due.
    error = await refused(
        c,
        "apply_payment",
        {
            "invoice_id": ids[1],
            "amount_cents": 30_000,
            "reference": "WIRE-2026-0121",
            "idempotency_key": "nw-payment-6",
        },
        "overpayment",
    )
    assert error["details"]["amount_due_cents"] == due[1] == 22_550, error
    receipt = await call(
        c,
        "apply_payment",
        {
            "invoice_id": ids[1],
            "amount_cents": 12_550,
            "reference": "WIRE-2026-0121",
            "paid_at": "2026-01-21",
            "idempotency_key": "nw-payment-7",
        },
    )
    due[1] -= 12_550
    assert receipt["amount_due_cents"] == due[1] == 10_000

    for i, invoice_id in enumerate(ids):
        inv = await call(c, "get_invoice", {"invoice_id": invoice_id})
        paid = [p for p in statement if p[0] == i]
        assert inv["amount_due_cents"] == due[i]
        assert inv["amount_paid_cents"] == inv["total_cents"] - due[i]
        assert [p["reference"] for p in inv["payments"]][: len(paid)] == [p[3] for p in paid]
        assert inv["status"] == ("paid" if due[i] == 0 else "sent")
        assert [e["action"] for e in inv["history"]][:2] == ["created", "sent"]

    report = await call(c, "list_outstanding", {"customer_id": "cust_northwind"})
    (balance,) = report["balances"]
    assert balance["outstanding_cents"] == due[1] + due[2] == 150_000, balance
    assert balance["open_invoices"] == 2 and balance["overdue_cents"] == 0


# The corrections a self-correcting agent makes from the error details alone.
def _set_path(args: dict[str, Any], path: str, value: Any) -> None:
    target: Any = args
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else target[part]
    last = parts[-1]
    if last.startswith("["):
        target[int(last[1:-1])] = value
    else:
        target[last] = value


def _suggested(error: dict[str, Any]) -> str | None:
    m = re.search(r"`([^`]+)`", error.get("suggestion") or "")
    return m.group(1) if m else None


def correct(args: dict[str, Any], errors: list[dict[str, Any]], fixes: list[str]) -> dict[str, Any]:
    """A corrected copy of `args`, one fix per reported error (each fix noted in `fixes`)."""
    args = {k: (list(v) if isinstance(v, list) else v) for k, v in args.items()}
    if "line_items" in args:
        args["line_items"] = [dict(item) for item in args["line_items"]]
    for e in errors:
        path, code = e["path"], e["code"]
        if code == "unknown_field":
            new = _suggested(e)
            assert new in e["allowed"], f"no usable suggestion for {path}: {e}"
            args[new] = args.pop(path)
            fixes.append(f"renamed {path} -> {new}")
        elif code == "required" and any(_suggested(o) == path for o in errors if o["code"] == "unknown_field"):
            fixes.append(f"{path} comes from the renamed field")
        elif code == "invalid_type" and e["expected"].startswith("integer") and isinstance(e["received"], str):
            # "15.00" was meant in dollars; the schema wants integer minor units (cents).
            cents = Decimal(e["received"]) * 100
            assert cents == cents.to_integral_value(), e
            _set_path(args, path, int(cents))
            fixes.append(f"{path}: {e['received']!r} -> {int(cents)} (minor units)")
        elif code == "invalid_format" and "uppercase" in e["expected"]:
            _set_path(args, path, e["received"].upper())
            fixes.append(f"{path}: {e['received']!r} -> {e['received'].upper()!r}")
        elif code == "invalid_format" and e["expected"].startswith("date"):
            # A day past the end of the month: the agent meant the month's last day.
            y, m, _ = (int(x) for x in e["received"].split("-"))
            fixed = dt.date(y, m, calendar.monthrange(y, m)[1]).isoformat()
            _set_path(args, path, fixed)
            fixes.append(f"{path}: {e['received']!r} -> {fixed!r}")
        elif code == "not_allowed":
            new = _suggested(e)
            assert new in e["allowed"], f"no usable suggestion for {path}: {e}"
            _set_path(args, path, new)
            fixes.append(f"{path}: {e['received']!r} -> {new!r}")
        else:
            raise AssertionError(f"the agent does not know how to fix {e}")
    return args


async def call_correcting(c: Client, tool: str, args: dict[str, Any], expect: set[str], fix=correct) -> dict[str, Any]:
    """Calls, reads the invalid_params errors, corrects the arguments, calls again."""
    r = await c.call_tool(tool, args)
    assert r.is_error, f"{tool}({args}) was expected to be refused"
    error = r.structured_content["error"]
    assert error["code"] == "invalid_params", error
    codes = {(e["path"], e["code"]) for e in error["errors"]}
    assert codes == expect, f"{tool}: errors {sorted(codes)} != expected {sorted(expect)}"
    for e in error["errors"]:
        assert e["expected"] and e["message"], e
    fixes: list[str] = []
    fixed = fix(args, error["errors"], fixes)
    assert len(fixes) == len(error["errors"])
    return await call(c, tool, fixed)


@scenario()
async def malformed_params_self_correcting(c: Client) -> None:
    """An agent that guesses argument shapes, reads each error, and corrects itself."""
    await discover(c)
    await call(c, "upsert_customer", {"customer_id": "cust_soylent", "name": "Soylent Corp", "payment_terms_days": 30})

    # Dollar strings for amounts, a camelCase key, lowercase currency, a date that does not exist.
    first_try = {
        "customerId": "cust_soylent",
        "line_items": [
            {"description": "Catering, March", "amount_cents": "1250.00"},
            {"description": "Service charge", "amount_cents": "99.95"},
        ],
        "currency": "usd",
        "due_date": "2025-02-30",
        "memo": "Catering order 7731",
        "idempotency_key": "soylent-order-7731",
    }
    inv = await call_correcting(
        c,
        "create_invoice",
        first_try,
        {
            ("customer_id", "required"),
            ("customerId", "unknown_field"),
            ("line_items[0].amount_cents", "invalid_type"),
            ("line_items[1].amount_cents", "invalid_type"),
            ("currency", "invalid_format"),
            ("due_date", "invalid_format"),
        },
    )
    assert inv["customer_id"] == "cust_soylent" and inv["currency"] == "USD"
    assert inv["total_cents"] == 125_000 + 9_995 and inv["due_date"] == "2025-02-28"

    # An empty order: the agent forgot to pass the lines it had prepared.
    prepared = [line("Catering, April", 98_000)]
    draft = {"customer_id": "cust_soylent", "line_items": [], "idempotency_key": "soylent-order-7790"}

    def add_prepared_lines(args, errors, fixes):
        assert [(e["path"], e["code"]) for e in errors] == [("line_items", "too_few_items")]
        assert errors[0]["expected"] == "array of 1..=100 items"
        fixes.append("added the prepared lines")
        return {**args, "line_items": prepared}

    second = await call_correcting(c, "create_invoice", draft, {("line_items", "too_few_items")}, add_prepared_lines)
    assert second["total_cents"] == 98_000

    # Issued when the work was billed (an issue date is never after its due date).
    sent = await call(
        c,
        "send_invoice",
        {"invoice_id": inv["invoice_id"], "issue_date": "2025-01-29", "idempotency_key": "soylent-send-7731"},
    )
    assert sent["status"] == "overdue", "due 2025-02-28, so overdue as soon as it is sent"
    assert sent["issue_date"] == "2025-01-29"

    # A payment with the amount as a dollar string and a wrongly cased method.
    receipt = await call_correcting(
        c,
        "apply_payment",
        {
            "invoice_id": inv["invoice_id"],
            "amount_cents": "500.00",
            "method": "Check",
            "reference": "CHK-5521",
            "paid_at": "2026-01-15",
            "idempotency_key": "soylent-payment-1",
        },
        {("amount_cents", "invalid_type"), ("method", "not_allowed")},
    )
    assert receipt["payment"]["amount_cents"] == 50_000 and receipt["payment"]["method"] == "check"
    assert receipt["amount_due_cents"] == 134_995 - 50_000

    # A status filter in the wrong case, then the corrected filters.
    page = await call_correcting(
        c, "list_invoices", {"customer_id": "cust_soylent", "status": "Overdue"}, {("status", "not_allowed")}
    )
    assert [i["invoice_id"] for i in page["invoices"]] == [inv["invoice_id"]]
    page = await call_correcting(c, "list_invoices", {"status": "Paid"}, {("status", "not_allowed")})
    assert page["invoices"] == [] and page["next_cursor"] is None
    page = await call(c, "list_invoices", {"customer_id": "cust_soylent", "status": "draft"})
    assert [i["invoice_id"] for i in page["invoices"]] == [second["invoice_id"]]


RATE_LIMIT = 2  # calls per second for the rate_limited_retries server
MAX_ATTEMPTS = 20


async def retrying(what: str, send: Callable[[], Awaitable[Any]], throttled: list[dict[str, Any]]) -> Any:
    """Retries a throttled call as the server says: after retry_after_ms, the same call again.

    Each call is throttled at most once: the server's retry_after_ms must be enough. (A second
    refusal would also make the recording fragile: replay is never faster than the recording,
    so a retry refused at recording time might pass at replay time.)
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await send()
        except MCPError as e:
            data = e.error.data or {}
            if not data.get("retryable"):
                raise
            assert e.error.code == -32010 and data["reason"] == "rate_limited", e.error
            assert data["limit"] == {"scope": "global", "requests_per_second": RATE_LIMIT}, data
            assert attempt == 1, f"{what} was throttled again after waiting retry_after_ms: {data}"
            throttled.append({"call": what, "retry_after_ms": data["retry_after_ms"]})
            # Sequential calls, so no jitter: wait exactly as long as the server says.
            await asyncio.sleep(data["retry_after_ms"] / 1000)
    raise AssertionError(f"{what} was still throttled after {MAX_ATTEMPTS} attempts")


@scenario(flags=["--rate-limit", str(RATE_LIMIT)], mode="legacy")
async def rate_limited_retries(c: Client) -> None:
    """Eight invoices back to back on a server allowing 2 calls/s: on 429, wait and resend the
    same call with the same idempotency key.

    mode="legacy": the auto mode's server/discover probe is not part of the recorded session,
    yet it would spend one of the 2 calls/s, so replay would see a different limiter.
    """
    throttled: list[dict[str, Any]] = []
    listed = await retrying("tools/list", c.list_tools, throttled)
    assert TOOLS <= {t.name for t in listed.tools}

    ids = []
    for n in range(1, 9):
        args = {
            "customer_id": "cust_wayne",
            "line_items": [line(f"Security audit, site {n}", 150_000 + 1_000 * n)],
            "idempotency_key": f"rl-invoice-{n:03d}",
        }
        inv = await retrying(f"create_invoice {n}", lambda args=args: call(c, "create_invoice", args), throttled)
        assert inv["total_cents"] == 150_000 + 1_000 * n
        ids.append(inv["invoice_id"])
    assert len(set(ids)) == 8, "each key made one invoice"

    args = {"customer_id": "cust_wayne", "limit": 100}
    page = await retrying("list_invoices", lambda: call(c, "list_invoices", args), throttled)
    assert [i["invoice_id"] for i in page["invoices"]] == ids[::-1], "exactly the 8 invoices, newest first"
    assert page["next_cursor"] is None
    assert any(t["call"].startswith("create_invoice") for t in throttled), f"nothing was rate-limited: {throttled}"


@scenario()
async def paging_three_pages(c: Client) -> None:
    """25 invoices for one customer, read back 10 at a time with the cursor."""
    await discover(c)
    await call(c, "upsert_customer", {"customer_id": "cust_cyberdyne", "name": "Cyberdyne Systems"})
    ids = []
    for n in range(1, 26):
        inv = await call(
            c,
            "create_invoice",
            {
                "customer_id": "cust_cyberdyne",
                "line_items": [line(f"Support ticket #{4000 + n}", 7_500 + 100 * n)],
                "idempotency_key": f"page-{n:03d}",
            },
        )
        ids.append(inv["invoice_id"])

    seen, sizes, cursor = [], [], None
    while True:
        args: dict[str, Any] = {"customer_id": "cust_cyberdyne", "limit": 10}
        if cursor:
            args["cursor"] = cursor
        page = await call(c, "list_invoices", args)
        sizes.append(len(page["invoices"]))
        seen.extend(i["invoice_id"] for i in page["invoices"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(sizes) < 10, "paging does not end"
    assert sizes == [10, 10, 5], sizes
    assert seen == ids[::-1], "every invoice once, newest first"

    drafts = await call(c, "list_invoices", {"customer_id": "cust_cyberdyne", "status": "draft", "limit": 100})
    assert len(drafts["invoices"]) == 25 and drafts["next_cursor"] is None


@scenario()
async def chasing_overdue(c: Client) -> None:
    """Collections: find overdue invoices, read the aging, record a partial payment, look again."""
    await discover(c)
    await call(
        c, "upsert_customer", {"customer_id": "cust_tyrell", "name": "Tyrell Corporation", "payment_terms_days": 30}
    )
    await call(c, "upsert_customer", {"customer_id": "cust_oscorp", "name": "Oscorp", "payment_terms_days": 30})
    # (customer, amount, due_date): three long overdue, one on terms (not yet due)
    bills = [
        ("cust_tyrell", 310_000, "2020-03-31"),
        ("cust_tyrell", 125_000, "2020-06-30"),
        ("cust_oscorp", 88_000, "2020-09-30"),
        ("cust_oscorp", 42_000, None),
    ]
    ids = []
    for n, (customer_id, amount, due_date) in enumerate(bills, start=1):
        args: dict[str, Any] = {
            "customer_id": customer_id,
            "line_items": [line(f"Replicant maintenance, contract {n}", amount)],
            "idempotency_key": f"overdue-invoice-{n}",
        }
        if due_date:
            args["due_date"] = due_date
        inv = await call(c, "create_invoice", args)
        send: dict[str, Any] = {"invoice_id": inv["invoice_id"], "idempotency_key": f"overdue-send-{n}"}
        if due_date:
            # Issued 30 days before it fell due, back then: the dates rise with the numbers.
            send["issue_date"] = (dt.date.fromisoformat(due_date) - dt.timedelta(days=30)).isoformat()
        sent = await call(c, "send_invoice", send)
        assert sent["status"] == ("overdue" if due_date else "sent"), sent
        if due_date:
            assert sent["due_date"] == due_date
        ids.append(inv["invoice_id"])

    overdue = await call(c, "list_invoices", {"status": "overdue"})
    assert sorted(i["invoice_id"] for i in overdue["invoices"]) == sorted(ids[:3])
    assert all(i["status"] == "overdue" for i in overdue["invoices"])

    # As of 2019-12-31 nothing had been issued yet: an empty report. As of 2020-06-30, the first
    # was 91 days late and the second due that day.
    past = await call(c, "list_outstanding", {"as_of": "2019-12-31"})
    assert past["as_of"] == "2019-12-31" and past["balances"] == []
    then = await call(c, "list_outstanding", {"as_of": "2020-06-30", "customer_id": "cust_tyrell"})
    (tyrell_then,) = then["balances"]
    assert tyrell_then["aging"]["over_90_cents"] == 310_000 and tyrell_then["aging"]["current_cents"] == 125_000

    now = await call(c, "list_outstanding", {})
    by_customer = {b["customer_id"]: b for b in now["balances"]}
    tyrell, oscorp = by_customer["cust_tyrell"], by_customer["cust_oscorp"]
    assert tyrell["outstanding_cents"] == tyrell["overdue_cents"] == tyrell["aging"]["over_90_cents"] == 435_000
    assert tyrell["oldest_due_date"] == "2020-03-31" and tyrell["open_invoices"] == 2
    assert oscorp["outstanding_cents"] == 130_000 and oscorp["overdue_cents"] == 88_000
    assert oscorp["aging"]["current_cents"] == 42_000 and oscorp["aging"]["over_90_cents"] == 88_000

    # Tyrell pays part of the oldest invoice after the reminder.
    receipt = await call(
        c,
        "apply_payment",
        {
            "invoice_id": ids[0],
            "amount_cents": 100_000,
            "method": "bank_transfer",
            "reference": "TYR-REMIT-0042",
            "paid_at": "2026-01-15",
            "idempotency_key": "overdue-payment-1",
        },
    )
    assert receipt["status"] == "overdue" and receipt["amount_due_cents"] == 210_000

    overdue = await call(c, "list_invoices", {"status": "overdue", "customer_id": "cust_tyrell"})
    assert [i["amount_due_cents"] for i in overdue["invoices"] if i["invoice_id"] == ids[0]] == [210_000]
    now = await call(c, "list_outstanding", {"customer_id": "cust_tyrell"})
    (tyrell,) = now["balances"]
    assert tyrell["outstanding_cents"] == 335_000 and tyrell["aging"]["over_90_cents"] == 335_000

    # Oscorp settles its overdue invoice in full: it leaves the overdue list.
    receipt = await call(
        c,
        "apply_payment",
        {
            "invoice_id": ids[2],
            "amount_cents": 88_000,
            "method": "check",
            "reference": "OSC-88000",
            "paid_at": "2026-01-15",
            "idempotency_key": "overdue-payment-2",
        },
    )
    assert receipt["status"] == "paid"
    overdue = await call(c, "list_invoices", {"status": "overdue"})
    assert sorted(i["invoice_id"] for i in overdue["invoices"]) == sorted(ids[:2])
    paid = await call(c, "list_invoices", {"status": "paid"})
    assert [i["invoice_id"] for i in paid["invoices"]] == [ids[2]]


@scenario()
async def voiding(c: Client) -> None:
    """Voiding a draft and a sent invoice; a partly paid one cannot be voided."""
    await discover(c)
    await call(
        c, "upsert_customer", {"customer_id": "cust_umbrella", "name": "Umbrella Corporation", "currency": "EUR"}
    )
    ids = []
    for n, amount in enumerate([64_000, 27_500, 90_000], start=1):
        inv = await call(
            c,
            "create_invoice",
            {
                "customer_id": "cust_umbrella",
                "currency": "EUR",
                "line_items": [line(f"Lab equipment, order {n}", amount)],
                "idempotency_key": f"void-invoice-{n}",
            },
        )
        ids.append(inv["invoice_id"])
    draft, to_void, partly_paid = ids

    voided = await call(
        c, "void_invoice", {"invoice_id": draft, "reason": "Duplicate of order 2", "idempotency_key": "void-1"}
    )
    assert voided["status"] == "void" and voided["number"] is None and voided["void_reason"] == "Duplicate of order 2"

    sent = await call(c, "send_invoice", {"invoice_id": to_void, "idempotency_key": "void-send-2"})
    number = sent["number"]
    voided = await call(
        c,
        "void_invoice",
        {"invoice_id": to_void, "reason": "Customer cancelled the order", "idempotency_key": "void-2"},
    )
    assert voided["status"] == "void" and voided["number"] == number, "a voided invoice keeps its number"

    await call(c, "send_invoice", {"invoice_id": partly_paid, "idempotency_key": "void-send-3"})
    await call(
        c,
        "apply_payment",
        {
            "invoice_id": partly_paid,
            "amount_cents": 30_000,
            "reference": "SEPA-7781",
            "paid_at": "2026-01-15",
            "idempotency_key": "void-payment-3",
        },
    )
    error = await refused(
        c,
        "void_invoice",
        {"invoice_id": partly_paid, "reason": "Customer disputes", "idempotency_key": "void-3"},
        "invalid_state",
    )
    assert error["details"]["current_status"] == "sent" and error["details"]["allowed_actions"] == ["apply_payment", "create_credit_note", "apply_customer_credit", "write_off_invoice"]

    # Voiding again is refused too: void is final.
    error = await refused(
        c, "void_invoice", {"invoice_id": draft, "reason": "Again", "idempotency_key": "void-4"}, "invalid_state"
    )
    assert error["details"]["current_status"] == "void" and error["details"]["allowed_actions"] == []

    histories = {}
    for invoice_id in ids:
        inv = await call(c, "get_invoice", {"invoice_id": invoice_id})
        histories[invoice_id] = [(e["action"], e["from_status"], e["to_status"]) for e in inv["history"]]
    assert histories[draft] == [("created", None, "draft"), ("voided", "draft", "void")]
    assert histories[to_void] == [("created", None, "draft"), ("sent", "draft", "sent"), ("voided", "sent", "void")]
    assert histories[partly_paid] == [
        ("created", None, "draft"),
        ("sent", "draft", "sent"),
        ("payment_applied", "sent", "sent"),
    ]

    void_page = await call(c, "list_invoices", {"status": "void"})
    assert sorted(i["invoice_id"] for i in void_page["invoices"]) == sorted([draft, to_void])
    report = await call(c, "list_outstanding", {"customer_id": "cust_umbrella"})
    (balance,) = report["balances"]
    assert balance["currency"] == "EUR" and balance["outstanding_cents"] == 60_000 and balance["open_invoices"] == 1


@scenario()
async def customer_onboarding(c: Client) -> None:
    """New customers with terms; terms renegotiated; an invoice whose due date follows the terms."""
    await discover(c)
    new = [
        {
            "customer_id": "cust_initrode",
            "name": "Initrode",
            "email": "ap@initrode.example",
            "currency": "USD",
            "payment_terms_days": 45,
        },
        {
            "customer_id": "cust_vandelay",
            "name": "Vandelay Industries",
            "email": "art@vandelay.example",
            "currency": "EUR",
            "payment_terms_days": 14,
        },
        {"customer_id": "cust_bluth", "name": "Bluth Company", "idempotency_key": "onboard-bluth"},
        {
            "customer_id": "cust_dunder",
            "name": "Dunder Mifflin Paper",
            "email": "accounting@dunder.example",
            "currency": "JPY",
            "payment_terms_days": 0,
        },
    ]
    for args in new:
        got = await call(c, "upsert_customer", args)
        assert got["created"] is True and got["name"] == args["name"]
        assert got["payment_terms_days"] == args.get("payment_terms_days", 30), "default terms are 30 days"
        assert got["currency"] == args.get("currency", "USD")

    # Initrode negotiates 60 days; only the terms are sent, the rest stays.
    updated = await call(
        c, "upsert_customer", {"customer_id": "cust_initrode", "name": "Initrode", "payment_terms_days": 60}
    )
    assert updated["created"] is False and updated["payment_terms_days"] == 60
    assert updated["email"] == "ap@initrode.example" and updated["currency"] == "USD"

    found = await call(c, "list_customers", {"query": "in"})
    names = [cu["name"] for cu in found["customers"]]
    assert "Initrode" in names and names == sorted(names), names
    everyone = await call(c, "list_customers", {"limit": 2})
    assert len(everyone["customers"]) == 2 and everyone["next_cursor"] is not None
    rest = await call(c, "list_customers", {"limit": 2, "cursor": everyone["next_cursor"]})
    assert [cu["customer_id"] for cu in everyone["customers"] + rest["customers"]] == [
        "cust_bluth",
        "cust_dunder",
        "cust_initrode",
        "cust_vandelay",
    ], "by name"

    account = await call(c, "get_customer", {"customer_id": "cust_initrode"})
    assert account["payment_terms_days"] == 60 and account["outstanding"] == []

    inv = await call(
        c,
        "create_invoice",
        {
            "customer_id": "cust_initrode",
            "line_items": [line("Onboarding package", 250_000)],
            "idempotency_key": "onboard-invoice-1",
        },
    )
    assert inv["due_date"] is None
    sent = await call(c, "send_invoice", {"invoice_id": inv["invoice_id"], "idempotency_key": "onboard-send-1"})
    assert dt.date.fromisoformat(sent["due_date"]) == issued_on(sent) + dt.timedelta(days=60), sent

    # Zero-day terms: due on the day it is sent. JPY has no minor unit.
    inv = await call(
        c,
        "create_invoice",
        {
            "customer_id": "cust_dunder",
            "currency": "JPY",
            "line_items": [line("Paper, 500 reams", 1_200, 500)],
            "idempotency_key": "onboard-invoice-2",
        },
    )
    sent = await call(c, "send_invoice", {"invoice_id": inv["invoice_id"], "idempotency_key": "onboard-send-2"})
    assert dt.date.fromisoformat(sent["due_date"]) == issued_on(sent) and sent["amount_due_formatted"] == "600000 JPY"

    account = await call(c, "get_customer", {"customer_id": "cust_initrode"})
    (owed,) = account["outstanding"]
    assert owed["outstanding_cents"] == 250_000 and owed["overdue_cents"] == 0

    missing = await refused(c, "get_customer", {"customer_id": "cust_nobody"}, "not_found")
    assert "cust_nobody" in missing["message"]


@scenario(transport="stdio", mode="legacy")
async def stdio_session(c: Client) -> None:
    """A desktop agent on `tally stdio`: bill a customer, send, take two payments, read back.

    mode="legacy": over stdio the auto mode's server/discover probe would be the session's first
    message, and the recording would then not know the client's name.
    """
    await discover(c)
    await call(c, "upsert_customer", {"customer_id": "cust_pied_piper", "name": "Pied Piper", "payment_terms_days": 30})
    lines = [line("Compression consulting", 95_000, 2), line("Travel", 18_420)]
    inv = await call(
        c,
        "create_invoice",
        {
            "customer_id": "cust_pied_piper",
            "line_items": lines,
            "memo": "Thanks for your business",
            "idempotency_key": "stdio-invoice-1",
        },
    )
    assert inv["total_cents"] == 208_420
    sent = await call(c, "send_invoice", {"invoice_id": inv["invoice_id"], "idempotency_key": "stdio-send-1"})
    assert sent["status"] == "sent" and sent["number"] is not None
    first = await call(
        c,
        "apply_payment",
        {
            "invoice_id": inv["invoice_id"],
            "amount_cents": 100_000,
            "reference": "PP-1",
            "paid_at": "2026-01-15",
            "idempotency_key": "stdio-payment-1",
        },
    )
    assert first["status"] == "sent" and first["amount_due_cents"] == 108_420
    second = await call(
        c,
        "apply_payment",
        {
            "invoice_id": inv["invoice_id"],
            "amount_cents": 108_420,
            "method": "card",
            "reference": "PP-2",
            "idempotency_key": "stdio-payment-2",
        },
    )
    assert second["status"] == "paid" and second["amount_due_cents"] == 0
    got = await call(c, "get_invoice", {"invoice_id": inv["invoice_id"]})
    assert got["status"] == "paid" and [p["amount_cents"] for p in got["payments"]] == [100_000, 108_420]
    assert [e["action"] for e in got["history"]] == ["created", "sent", "payment_applied", "payment_applied"]


@scenario()
async def idempotent_retries_and_drafts(c: Client) -> None:
    """Retries with idempotency keys, a refused key reuse, draft edits, and double sends."""
    await discover(c)
    # An invoice is sent only to a customer Tally has a record of: it names its buyer.
    await call(c, "upsert_customer", {"customer_id": "cust_massive", "name": "Massive Dynamic"})
    args = {
        "customer_id": "cust_massive",
        "line_items": [line("Dynamic widgets", 2_500, 40)],
        "memo": "PO 5512",
        "idempotency_key": "idem-create-1",
    }
    first = await call(c, "create_invoice", args)
    # The answer was lost (say, a timeout): the agent resends the same call with the same key.
    again = await call(c, "create_invoice", args)
    assert again == first, "the same key and arguments return the first result"
    page = await call(c, "list_invoices", {"customer_id": "cust_massive"})
    assert len(page["invoices"]) == 1, "one invoice, not two"

    # Reusing the key for a different invoice is refused and writes nothing.
    error = await refused(
        c, "create_invoice", {**args, "line_items": [line("Dynamic widgets", 2_500, 45)]}, "idempotency_conflict"
    )
    assert error["path"] == "idempotency_key" and error["received"] == "idem-create-1", error
    page = await call(c, "list_invoices", {"customer_id": "cust_massive"})
    assert len(page["invoices"]) == 1

    invoice_id = first["invoice_id"]
    edited = await call(
        c,
        "update_draft_invoice",
        {
            "invoice_id": invoice_id,
            "line_items": [line("Dynamic widgets", 2_500, 45), line("Rush delivery", 7_500)],
            "memo": "PO 5512, revised",
            "idempotency_key": "idem-update-1",
        },
    )
    assert (
        edited["status"] == "draft"
        and edited["total_cents"] == 2_500 * 45 + 7_500
        and edited["memo"] == "PO 5512, revised"
    )
    edited_again = await call(
        c,
        "update_draft_invoice",
        {"invoice_id": invoice_id, "due_date": "2020-12-31", "idempotency_key": "idem-update-2"},
    )
    assert edited_again["due_date"] == "2020-12-31" and edited_again["total_cents"] == edited["total_cents"]

    send = {"invoice_id": invoice_id, "issue_date": "2020-12-01", "idempotency_key": "idem-send-1"}
    sent = await call(c, "send_invoice", send)
    assert sent["status"] == "overdue" and sent["number"] is not None
    resent = await call(c, "send_invoice", send)
    assert resent["number"] == sent["number"] and resent["issued_at"] == sent["issued_at"], (
        "a retried send is the same send"
    )
    error = await refused(
        c, "send_invoice", {"invoice_id": invoice_id, "idempotency_key": "idem-send-2"}, "invalid_state"
    )
    assert error["details"]["current_status"] == "overdue", error
    assert sorted(error["details"]["allowed_actions"]) == sorted(["apply_payment", "create_credit_note", "void_invoice", "apply_customer_credit", "write_off_invoice"]), error
    error = await refused(
        c,
        "update_draft_invoice",
        {"invoice_id": invoice_id, "memo": "too late", "idempotency_key": "idem-update-3"},
        "invalid_state",
    )
    assert error["details"]["current_status"] == "overdue"

    pay = {
        "invoice_id": invoice_id,
        "amount_cents": 50_000,
        "reference": "MASSIVE-PAY-1",
        "paid_at": "2026-01-15",
        "idempotency_key": "idem-pay-1",
    }
    receipt = await call(c, "apply_payment", pay)
    receipt_again = await call(c, "apply_payment", pay)
    assert receipt_again == receipt, "a retried payment is the same payment"
    got = await call(c, "get_invoice", {"invoice_id": invoice_id})
    assert len(got["payments"]) == 1 and got["amount_paid_cents"] == 50_000
    assert [e["idempotency_key"] for e in got["history"]] == [
        "idem-create-1",
        "idem-update-1",
        "idem-update-2",
        "idem-send-1",
        "idem-pay-1",
    ]


@scenario(mode="auto")
async def stateless_billing(c: Client) -> None:
    """A 2026-07-28 client: no session, every call on its own; bills, collects and reads back."""
    assert c.session.protocol_version == "2026-07-28", c.session.protocol_version
    await discover(c)
    await call(c, "upsert_customer", {"customer_id": "cust_wayne", "name": "Wayne Enterprises", "payment_terms_days": 30})
    invoice = await call(c, "create_invoice", {
        "customer_id": "cust_wayne",
        "line_items": [line("Grapple hooks", 12_500, 4), line("Cape dry-cleaning", 4_000)],
        "idempotency_key": "stateless-create-1",
    })
    again = await call(c, "create_invoice", {
        "customer_id": "cust_wayne",
        "line_items": [line("Grapple hooks", 12_500, 4), line("Cape dry-cleaning", 4_000)],
        "idempotency_key": "stateless-create-1",
    })
    assert again == invoice, "a retry without a session is still the same create"
    sent = await call(c, "send_invoice", {"invoice_id": invoice["invoice_id"], "idempotency_key": "stateless-send-1"})
    assert sent["status"] == "sent"
    paid = await call(c, "apply_payment", {
        "invoice_id": invoice["invoice_id"], "amount_cents": 20_000, "idempotency_key": "stateless-pay-1"})
    assert paid["amount_due_cents"] == 12_500 * 4 + 4_000 - 20_000
    templates = await c.list_resource_templates()
    assert {"invoice://{invoice_id}", "customer://{customer_id}"} <= {t.uri_template for t in templates.resource_templates}
    read = await c.read_resource(f"invoice://{invoice['invoice_id']}")
    body = json.loads(read.contents[0].text)
    assert body["amount_paid_cents"] == 20_000 and [e["action"] for e in body["history"]] == [
        "created", "sent", "payment_applied"]
    listed = await c.list_resources()
    assert [r.uri for r in listed.resources] == [f"invoice://{invoice['invoice_id']}"]
    await refused(c, "void_invoice", {"invoice_id": invoice["invoice_id"], "reason": "paid in part"}, "invalid_state")
