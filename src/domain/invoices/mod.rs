//! Invoices: their shapes, and the service that creates, reads and moves them through the
//! state machine. Every write is one transaction with its idempotency key and audit record.

mod create;
mod lifecycle;
pub mod payments;
mod read;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use super::InvoiceId;
use super::audit::Event;
use super::money::{self, Currency};
use payments::Payment;

pub use lifecycle::DraftChanges;
pub(crate) use lifecycle::{check, lock};

/// An invoice's status as callers see it. `Overdue` is derived: sent and past its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum InvoiceStatus {
    Draft,
    Sent,
    Paid,
    Overdue,
    Void,
}

impl InvoiceStatus {
    /// Every status a caller sees, in the order schemas list them.
    pub const ALL: [Self; 5] = [Self::Draft, Self::Sent, Self::Paid, Self::Overdue, Self::Void];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Sent => "sent",
            Self::Paid => "paid",
            Self::Overdue => "overdue",
            Self::Void => "void",
        }
    }
}

/// Filters by the status callers see, overdue included.
pub type StatusFilter = InvoiceStatus;

/// The SQL for the status a caller sees (the rule lives in `invoice_display_status`, see
/// migrations/); "today" is the UTC date.
pub(crate) const DISPLAY_STATUS: &str =
    "invoice_display_status(i.status, i.due_date, (now() at time zone 'utc')::date)";

pub(crate) const SUMMARY_COLUMNS: &str = "i.invoice_id, i.number, i.customer_id, i.currency, i.total_cents, i.amount_paid_cents, \
     invoice_amount_due(i.status, i.total_cents, i.amount_paid_cents) as amount_due_cents, \
     i.due_date, i.issued_at, i.memo, i.created_at";

#[derive(Debug, Clone, Serialize)]
pub struct NewLine {
    pub description: String,
    pub amount_cents: i64,
    pub quantity: i32,
}

/// What `create` needs; also what an idempotency key's fingerprint covers.
#[derive(Debug, Clone, Serialize)]
pub struct NewInvoice {
    pub customer_id: String,
    pub line_items: Vec<NewLine>,
    pub due_date: Option<NaiveDate>,
    pub currency: Currency,
    pub memo: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, FromRow)]
pub struct LineItem {
    pub line_no: i32,
    pub description: String,
    pub amount_cents: i64,
    pub quantity: i32,
    pub line_total_cents: i64,
}

/// An invoice without its lines, as listings show it.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct InvoiceSummary {
    #[sqlx(try_from = "Uuid")]
    pub invoice_id: InvoiceId,
    /// Assigned when the invoice is sent: gapless per tenant (`INV-000001`).
    pub number: Option<String>,
    pub status: InvoiceStatus,
    pub customer_id: String,
    pub currency: String,
    pub total_cents: i64,
    pub amount_paid_cents: i64,
    pub amount_due_cents: i64,
    /// The amount due written out with the currency's minor unit: `10.50 USD`, `1500 JPY`.
    #[sqlx(skip)]
    pub amount_due_formatted: String,
    pub due_date: Option<NaiveDate>,
    pub issued_at: Option<DateTime<Utc>>,
    pub memo: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl InvoiceSummary {
    /// Fills what is derived rather than stored.
    fn derive(mut self) -> Self {
        self.amount_due_formatted = money::format(self.amount_due_cents, &self.currency);
        self
    }
}

impl From<Uuid> for InvoiceId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

/// An invoice with its lines, payments and history.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub summary: InvoiceSummary,
    pub line_items: Vec<LineItem>,
    pub payments: Vec<Payment>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    /// Every change, oldest first, from the audit trail.
    pub history: Vec<Event>,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub customer_id: Option<String>,
    pub status: Option<StatusFilter>,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub invoices: Vec<InvoiceSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Clone)]
pub struct InvoiceService {
    pool: PgPool,
    /// The customer's payment terms apply when a draft without a due date is sent; this is the
    /// fallback for customers Tally has no record of.
    default_terms_days: i32,
}

impl InvoiceService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, default_terms_days: 30 }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
