//! Shapes several tools share: id and key params, and the output schemas of invoices and pages.

use crate::domain::InvoiceId;
use crate::schema::{Field, Format, ToolSchema, array, enumeration, integer, object, string};

pub fn invoice_id() -> Field {
    string().pattern(InvoiceId::PATTERN).describe("The invoice's id: inv_ followed by 32 hex digits, as returned by create_invoice or list_invoices.")
}

pub fn idempotency_key() -> Field {
    string()
        .min_len(1)
        .max_len(255)
        .optional()
        .describe("A unique key for this write (a UUID). Resend the same key when retrying the same call: Tally returns the first result instead of writing twice. Reusing a key with different arguments is refused.")
}

fn status() -> Field {
    enumeration(&["draft", "sent", "paid", "overdue", "void"])
        .describe("draft, sent, paid, overdue (sent and past due) or void.")
}

/// The fields of an invoice without its lines, for an output object at any depth.
fn summary_fields() -> Vec<(&'static str, Field)> {
    vec![
        (
            "invoice_id",
            string()
                .pattern(InvoiceId::PATTERN)
                .describe("The invoice's id."),
        ),
        ("status", status()),
        (
            "customer_id",
            string().describe("The business's own customer key."),
        ),
        (
            "currency",
            string()
                .format(Format::Currency)
                .describe("ISO-4217 code of every amount."),
        ),
        (
            "total_cents",
            integer()
                .min(0)
                .describe("Sum of the lines, in minor units."),
        ),
        (
            "amount_paid_cents",
            integer().min(0).describe("Paid so far, in minor units."),
        ),
        (
            "amount_due_cents",
            integer().min(0).describe("Still due, in minor units."),
        ),
        (
            "due_date",
            string()
                .format(Format::Date)
                .nullable()
                .describe("Due date, YYYY-MM-DD, or null."),
        ),
        (
            "memo",
            string()
                .nullable()
                .describe("The note on the invoice, or null."),
        ),
        (
            "created_at",
            string().describe("When it was created (RFC 3339)."),
        ),
    ]
}

pub fn invoice() -> ToolSchema {
    let line = object()
        .field(
            "line_no",
            integer().min(1).describe("Position of the line, from 1."),
        )
        .field("description", string().describe("What is billed."))
        .field(
            "amount_cents",
            integer().min(0).describe("Unit price in minor units."),
        )
        .field("quantity", integer().min(1).describe("Units."))
        .field(
            "line_total_cents",
            integer().min(0).describe("amount_cents × quantity."),
        );
    summary_fields()
        .into_iter()
        .fold(ToolSchema::new(), |s, (name, field)| s.param(name, field))
        .param("line_items", array(line).describe("The lines, in order."))
}

pub fn page() -> ToolSchema {
    let summary = summary_fields()
        .into_iter()
        .fold(object(), |o, (name, field)| o.field(name, field));
    ToolSchema::new()
        .param(
            "invoices",
            array(summary).describe("This page of invoices, newest first."),
        )
        .param(
            "next_cursor",
            string()
                .nullable()
                .describe("Pass back as cursor for the next page; null on the last page."),
        )
}
