//! Param shapes several tools share: ids, keys, lines and methods.

use super::declare::{Declared, one_of};
use crate::domain::InvoiceId;
use crate::domain::payments::PaymentMethod;
use crate::schema::{Field, array, string};

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

pub fn payment_method() -> Field {
    one_of::<PaymentMethod>()
}
