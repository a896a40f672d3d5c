//! Param shapes several tools share: ids, keys, lines and methods.

use serde::Serialize;
use serde_json::json;
use validator::ValidationError;

use super::declare::{Declared, one_of};
use super::validation::rule_broken;
use crate::domain::InvoiceId;
use crate::domain::NewLine;
use crate::domain::money;
use crate::domain::payments::PaymentMethod;
use crate::schema::{Field, array, integer, string};

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
    array(LineParams::object()).min_items(1).max_items(100)
}

pub fn payment_method() -> Field {
    one_of::<PaymentMethod>()
}

crate::params! {
    /// One line of an invoice (create_invoice, update_draft_invoice).
    #[derive(Serialize)]
    pub struct LineParams {
        description: String = string().min_len(1).max_len(500).describe("What is billed, e.g. \"Widget\" or \"Consulting, March\"."),
        amount_cents: i64 = integer()
            .range(0, 10_000_000_000)
            .describe("Unit price in minor units of the invoice currency (USD cents: 1050 = $10.50)."),
        quantity: i32 = integer().range(1, 1_000_000).default(json!(1)).describe("How many units; defaults to 1."),
    }
}

impl LineParams {
    pub fn into_line(self) -> NewLine {
        NewLine { description: self.description, amount_cents: self.amount_cents, quantity: self.quantity }
    }
}

/// Cross-field rule: the lines together must not exceed the largest invoice Tally keeps.
pub fn total_within_limit(lines: &[LineParams]) -> Result<(), ValidationError> {
    match money::total_of(lines.iter().map(|l| (l.amount_cents, i64::from(l.quantity)))) {
        Some(_) => Ok(()),
        None => Err(rule_broken(
            "out_of_range",
            format!(
                "the invoice total (sum of amount_cents × quantity) exceeds the maximum of {} minor units",
                money::MAX_TOTAL
            ),
            format!("a total of at most {} minor units", money::MAX_TOTAL),
            None,
        )),
    }
}
