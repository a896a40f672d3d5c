//! Shapes several tools share: id and key params, and the output schemas of invoices,
//! payments, customers and balances.

use super::declare::{Declared, one_of};
use crate::domain::payments::PaymentMethod;
use crate::domain::{InvoiceId, InvoiceStatus, PaymentId};
use crate::schema::{Field, Format, ToolSchema, any_object, array, integer, object, string};

/// The customer key's shape: the business's own id (a CRM id such as `cust_42`).
pub fn customer_id() -> Field {
    string().min_len(1).max_len(64).pattern("^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
}

pub fn invoice_id() -> Field {
    string()
        .pattern(InvoiceId::PATTERN)
        .describe("The invoice's id: inv_ followed by 32 hex digits, as returned by create_invoice or list_invoices.")
}

pub fn idempotency_key() -> Field {
    string()
        .min_len(1)
        .max_len(255)
        .optional()
        .describe("A unique key for this write (a UUID). Resend the same key when retrying the same call: Tally returns the first result instead of writing twice. Reusing a key with different arguments is refused.")
}

pub fn line_items() -> Field {
    array(super::invoices::LineParams::object()).min_items(1).max_items(100)
}

pub fn status() -> Field {
    one_of::<InvoiceStatus>().describe("draft, sent, paid, overdue (sent and past due) or void.")
}

fn timestamp(what: &str) -> Field {
    string().describe(&format!("{what} (RFC 3339, UTC)."))
}

fn nullable_timestamp(what: &str) -> Field {
    string().nullable().describe(&format!("{what} (RFC 3339, UTC), or null."))
}

/// The fields of an invoice without its lines.
fn summary_fields() -> Vec<(&'static str, Field)> {
    vec![
        ("invoice_id", string().pattern(InvoiceId::PATTERN).describe("The invoice's id.")),
        (
            "number",
            string().nullable().describe("The invoice number (e.g. INV-000042), assigned when sent; null for drafts."),
        ),
        ("status", status()),
        ("customer_id", string().describe("The business's own customer key.")),
        ("currency", string().format(Format::Currency).describe("ISO-4217 code of every amount.")),
        ("total_cents", integer().min(0).describe("Sum of the lines, in minor units.")),
        ("amount_paid_cents", integer().min(0).describe("Paid so far, in minor units.")),
        ("amount_due_cents", integer().min(0).describe("Still due, in minor units.")),
        (
            "amount_due_formatted",
            string().describe("The amount due written with the currency's minor unit, e.g. 10.50 USD."),
        ),
        ("due_date", string().format(Format::Date).nullable().describe("Due date, YYYY-MM-DD, or null.")),
        ("issued_at", nullable_timestamp("When it was sent")),
        ("memo", string().multiline().nullable().describe("The note on the invoice, or null.")),
        ("created_at", timestamp("When it was created")),
    ]
}

fn payment_fields() -> Vec<(&'static str, Field)> {
    vec![
        ("payment_id", string().pattern(PaymentId::PATTERN).describe("The payment's id: pay_ + 32 hex digits.")),
        ("amount_cents", integer().min(1).describe("Amount paid, in minor units of the invoice currency.")),
        ("currency", string().format(Format::Currency).describe("The invoice's currency.")),
        ("method", payment_method().describe("How it was paid.")),
        ("reference", string().nullable().describe("The payer's reference, or null.")),
        ("paid_at", timestamp("When the money arrived")),
        ("created_at", timestamp("When it was recorded")),
    ]
}

pub fn payment_method() -> Field {
    one_of::<PaymentMethod>()
}

fn fields_of(fields: Vec<(&'static str, Field)>) -> Field {
    fields.into_iter().fold(object(), |o, (name, field)| o.field(name, field))
}

fn event() -> Field {
    object()
        .field("at", timestamp("When it happened"))
        .field("action", string().describe("created, updated, sent, payment_applied or voided."))
        .field("from_status", string().nullable().describe("Status before, or null."))
        .field("to_status", string().nullable().describe("Status after, or null."))
        .field("amount_cents", integer().nullable().describe("The amount involved, in minor units, or null."))
        .field("currency", string().nullable().describe("Its currency, or null."))
        .field("via", string().describe("The tool that made the change."))
        .field("session_id", string().nullable().describe("The MCP session it came from, or null."))
        .field("idempotency_key", string().nullable().describe("The idempotency key it was made with, or null."))
        .field("details", any_object().describe("What changed, in detail."))
}

pub fn invoice() -> ToolSchema {
    let line = object()
        .field("line_no", integer().min(1).describe("Position of the line, from 1."))
        .field("description", string().describe("What is billed."))
        .field("amount_cents", integer().min(0).describe("Unit price in minor units."))
        .field("quantity", integer().min(1).describe("Units."))
        .field("line_total_cents", integer().min(0).describe("amount_cents × quantity."));
    summary_fields()
        .into_iter()
        .fold(ToolSchema::new(), |s, (name, field)| s.param(name, field))
        .param("line_items", array(line).describe("The lines, in order."))
        .param("payments", array(fields_of(payment_fields())).describe("Payments applied, oldest first."))
        .param("voided_at", nullable_timestamp("When it was voided"))
        .param("void_reason", string().nullable().describe("Why it was voided, or null."))
        .param("history", array(event()).describe("Every change to the invoice, oldest first (the audit trail)."))
}

pub fn page() -> ToolSchema {
    ToolSchema::new()
        .param("invoices", array(fields_of(summary_fields())).describe("This page of invoices, newest first."))
        .param(
            "next_cursor",
            string().nullable().describe("Pass back as cursor for the next page; null on the last page."),
        )
}

pub fn payment_receipt() -> ToolSchema {
    ToolSchema::new()
        .param("payment", fields_of(payment_fields()).describe("The payment recorded."))
        .param("invoice_id", string().pattern(InvoiceId::PATTERN).describe("The invoice paid."))
        .param("status", status())
        .param("currency", string().format(Format::Currency).describe("The invoice's currency."))
        .param("total_cents", integer().min(0).describe("The invoice total, in minor units."))
        .param("amount_paid_cents", integer().min(0).describe("Paid so far, this payment included."))
        .param("amount_due_cents", integer().min(0).describe("Still due after this payment; 0 means paid."))
}

fn customer_fields() -> Vec<(&'static str, Field)> {
    vec![
        ("customer_id", string().describe("The business's own customer key.")),
        ("name", string().describe("The customer's name.")),
        ("email", string().nullable().describe("Billing e-mail, or null.")),
        ("currency", string().format(Format::Currency).describe("The customer's usual currency.")),
        (
            "payment_terms_days",
            integer().range(0, 365).describe("Days after sending that an invoice without a due date is due."),
        ),
        ("created_at", timestamp("When the customer was added")),
        ("updated_at", timestamp("When the customer was last changed")),
    ]
}

fn balance() -> Field {
    object()
        .field("customer_id", string().describe("The customer."))
        .field("currency", string().format(Format::Currency).describe("Currency of these amounts."))
        .field("outstanding_cents", integer().min(0).describe("Everything still due on sent invoices, in minor units."))
        .field("overdue_cents", integer().min(0).describe("The part of it past its due date."))
        .field("open_invoices", integer().min(0).describe("How many invoices have something due."))
        .field(
            "oldest_due_date",
            string().format(Format::Date).nullable().describe("The earliest due date among them."),
        )
        .field(
            "aging",
            object()
                .field("current_cents", integer().min(0).describe("Not yet due."))
                .field("days_1_30_cents", integer().min(0).describe("1–30 days past due."))
                .field("days_31_60_cents", integer().min(0).describe("31–60 days past due."))
                .field("days_61_90_cents", integer().min(0).describe("61–90 days past due."))
                .field("over_90_cents", integer().min(0).describe("More than 90 days past due."))
                .describe("Amounts due by days past due."),
        )
}

pub fn upserted_customer() -> ToolSchema {
    customer_fields()
        .into_iter()
        .fold(ToolSchema::new(), |s, (name, field)| s.param(name, field))
        .param("created", crate::schema::boolean().describe("True when this call created the customer."))
}

pub fn customer_account() -> ToolSchema {
    customer_fields()
        .into_iter()
        .fold(ToolSchema::new(), |s, (name, field)| s.param(name, field))
        .param("outstanding", array(balance()).describe("What the customer owes today, per currency."))
}

pub fn customer_page() -> ToolSchema {
    ToolSchema::new()
        .param("customers", array(fields_of(customer_fields())).describe("This page of customers, by name."))
        .param(
            "next_cursor",
            string().nullable().describe("Pass back as cursor for the next page; null on the last page."),
        )
}

pub fn outstanding_report() -> ToolSchema {
    ToolSchema::new()
        .param("as_of", string().format(Format::Date).describe("The date the report is for."))
        .param("balances", array(balance()).describe("Per customer and currency, by customer."))
}
