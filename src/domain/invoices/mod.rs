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
use super::money::{Currency, Money};
use payments::Payment;

pub use lifecycle::{DraftChanges, IssueDetails};
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
/// migrations/); "today" is the tenant's (see [`calendar`](crate::domain::calendar)).
pub(crate) const DISPLAY_STATUS: &str = "invoice_display_status(i.status, i.due_date, (select tenant_today()))";

/// The summary's columns. What is due on an invoice today is the one ledger rule
/// (`invoice_balances`, see migrations/): what is open on it at the end of the tenant's today. A
/// draft is on no books yet; what sending it will make due is its total.
pub(crate) const SUMMARY_COLUMNS: &str = "i.invoice_id, i.number, i.customer_id, i.currency, i.total_cents, i.amount_paid_cents, \
     case when i.status = 'draft' then i.total_cents \
     else coalesce((select b.open_cents from invoice_balances(tenant_today()) b where b.invoice_id = i.invoice_id), 0) end \
     as amount_due_cents, i.due_date, i.issue_date, i.issued_at, i.memo, i.created_at";

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
    /// None: the customer's usual currency (USD for a customer Tally has no record of).
    pub currency: Option<Currency>,
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
    /// The invoice's date, chosen when it is sent (the tenant's today unless given).
    pub issue_date: Option<NaiveDate>,
    pub issued_at: Option<DateTime<Utc>>,
    pub memo: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl InvoiceSummary {
    /// Fills what is derived rather than stored.
    fn derive(mut self) -> Self {
        self.amount_due_formatted = self.due().plain();
        self
    }

    /// An amount of this invoice's currency.
    pub fn money(&self, minor: i64) -> Money {
        Money::of(minor, &self.currency)
    }

    pub fn total(&self) -> Money {
        self.money(self.total_cents)
    }

    pub fn paid(&self) -> Money {
        self.money(self.amount_paid_cents)
    }

    /// What is due today, by the ledger rule.
    pub fn due(&self) -> Money {
        self.money(self.amount_due_cents)
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
    /// When the goods or services were supplied, or the period they cover, if the invoice says.
    pub supply: Supply,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    /// Every change, oldest first, from the audit trail.
    pub history: Vec<Event>,
}

/// When what is invoiced was supplied: a day, a period, both or neither (EN 16931 BT-72, BG-14).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Supply {
    pub supply_date: Option<NaiveDate>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
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
}

impl InvoiceService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
