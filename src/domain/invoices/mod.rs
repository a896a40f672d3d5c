//! Invoices: their shapes, and the service that creates, reads and moves them through the
//! state machine. Every write is one transaction with its idempotency key and audit record.

mod create;
pub mod credit_notes;
mod lifecycle;
mod moves;
pub mod payments;
pub mod pricing;
mod read;
pub mod settle;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use super::audit::Event;
use super::money::{Currency, Money};
use super::tax::engine::{AdjustmentKind, Discount, Group};
use super::tax::{AppliedRate, TaxMode};
use super::{InvoiceId, TaxRateId};
use payments::Payment;
use pricing::AppliedAdjustment;
use rust_decimal::Decimal;
use sqlx::types::Json;

pub use lifecycle::{DraftChanges, IssueDetails};
pub(crate) use moves::{check, lock};

/// An invoice's status as callers see it. `Overdue` is derived: sent and past its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Sent,
    Paid,
    Overdue,
    Void,
    /// Closed as a bad debt (write_off_invoice): nothing more is asked of the customer.
    WrittenOff,
}

impl InvoiceStatus {
    /// Every status a caller sees, in the order schemas list them.
    pub const ALL: [Self; 6] = [Self::Draft, Self::Sent, Self::Paid, Self::Overdue, Self::Void, Self::WrittenOff];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Sent => "sent",
            Self::Paid => "paid",
            Self::Overdue => "overdue",
            Self::Void => "void",
            Self::WrittenOff => "written_off",
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
    /// The unit price in minor units (tax included when the invoice's prices are).
    pub amount_cents: i64,
    /// More than 0, at most four decimal places.
    pub quantity: Decimal,
    /// UN/ECE Recommendation 20 code; None is C62 ("one").
    pub unit: Option<String>,
    pub discount: Option<Discount>,
    pub tax_rate_ids: Vec<TaxRateId>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
}

impl NewLine {
    /// A line of `quantity` pieces at `amount_cents` each, untaxed and undiscounted.
    pub fn simple(description: impl Into<String>, amount_cents: i64, quantity: i64) -> Self {
        Self {
            description: description.into(),
            amount_cents,
            quantity: Decimal::from(quantity),
            unit: None,
            discount: None,
            tax_rate_ids: vec![],
            period_start: None,
            period_end: None,
        }
    }
}

/// A document allowance (a discount) or charge (shipping, packing…): a percent of the lines'
/// sum or an amount, with its reason.
#[derive(Debug, Clone, Serialize)]
pub struct NewAdjustment {
    pub kind: AdjustmentKind,
    pub reason: String,
    /// UNTDID 5189 (allowances) or 7161 (charges), e.g. 95 "Discount", FC "Freight".
    pub reason_code: Option<String>,
    pub amount: Discount,
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
    pub adjustments: Vec<NewAdjustment>,
    /// None: the tenant's price basis.
    pub prices_include_tax: Option<bool>,
}

/// The SQL of a line's columns as [`LineItem`] reads them.
pub(crate) const LINE_COLUMNS: &str = "line_no, description, amount_cents, quantity, unit_code, discount_percent, \
     discount_cents, line_total_cents, coalesce(net_cents, line_total_cents) as net_cents, taxes, period_start, period_end";

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct LineItem {
    pub line_no: i32,
    pub description: String,
    /// The unit price, in minor units.
    pub amount_cents: i64,
    pub quantity: Decimal,
    pub unit_code: String,
    pub discount_percent: Option<Decimal>,
    pub discount_cents: i64,
    /// `round(quantity × amount_cents) − discount_cents`, as priced.
    pub line_total_cents: i64,
    /// Net of tax (EN 16931 BT-131): line_total_cents unless prices include tax.
    pub net_cents: i64,
    pub taxes: Json<Vec<AppliedRate>>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
}

/// An invoice's tax figures: how it was calculated and what came of it.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct TaxFigures {
    pub tax_mode: TaxMode,
    pub prices_include_tax: bool,
    pub allowance_cents: i64,
    pub charge_cents: i64,
    pub tax_cents: i64,
    pub tax_breakdown: Json<Vec<Group>>,
    pub adjustments: Json<Vec<AppliedAdjustment>>,
}

/// The SQL of an invoice's tax columns as [`TaxFigures`] reads them.
pub(crate) const TAX_COLUMNS: &str =
    "i.tax_mode, i.prices_include_tax, i.allowance_cents, i.charge_cents, i.tax_cents, i.tax_breakdown, i.adjustments";

impl TaxFigures {
    /// Σ line nets (BT-106): what the total is before allowances, charges and tax.
    pub fn subtotal(&self, total: i64) -> i64 {
        total - self.tax_cents + self.allowance_cents - self.charge_cents
    }

    pub fn allowances(&self) -> impl Iterator<Item = &AppliedAdjustment> {
        self.adjustments.0.iter().filter(|a| a.kind == AdjustmentKind::Allowance)
    }

    pub fn charges(&self) -> impl Iterator<Item = &AppliedAdjustment> {
        self.adjustments.0.iter().filter(|a| a.kind == AdjustmentKind::Charge)
    }
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
    pub taxes: TaxFigures,
    pub payments: Vec<Payment>,
    /// Credit notes issued against it, oldest first.
    pub credit_notes: Vec<CreditNoteRef>,
    /// The bad debt written off on it, if it was.
    pub write_off: Option<WrittenOff>,
    /// When the goods or services were supplied, or the period they cover, if the invoice says.
    pub supply: Supply,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    /// Every change, oldest first, from the audit trail.
    pub history: Vec<Event>,
}

impl Invoice {
    /// What the invoice was priced from, as a draft's calculation takes it: its lines, its
    /// allowances and charges, and its price basis (VAT only).
    pub(crate) fn pricing_inputs(&self) -> (Vec<NewLine>, Vec<NewAdjustment>, Option<bool>) {
        let lines = self
            .line_items
            .iter()
            .map(|l| NewLine {
                description: l.description.clone(),
                amount_cents: l.amount_cents,
                quantity: l.quantity,
                unit: Some(l.unit_code.clone()),
                discount: match (l.discount_percent, l.discount_cents) {
                    (Some(p), _) => Some(Discount::Percent(p)),
                    (None, 0) => None,
                    (None, c) => Some(Discount::Amount(c)),
                },
                tax_rate_ids: l.taxes.0.iter().filter_map(|t| t.tax_rate_id.parse().ok()).collect(),
                period_start: l.period_start,
                period_end: l.period_end,
            })
            .collect();
        let adjustments = self
            .taxes
            .adjustments
            .0
            .iter()
            .map(|a| NewAdjustment {
                kind: a.kind,
                reason: a.reason.clone(),
                reason_code: a.reason_code.clone(),
                amount: a.percent.map_or(Discount::Amount(a.amount_cents), Discount::Percent),
            })
            .collect();
        let inclusive = (self.taxes.tax_mode == TaxMode::Vat).then_some(self.taxes.prices_include_tax);
        (lines, adjustments, inclusive)
    }
}

/// What was written off on an invoice, when, and why.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct WrittenOff {
    pub amount_cents: i64,
    pub written_off_on: NaiveDate,
    pub reason: Option<String>,
}

/// A credit note as its invoice lists it.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct CreditNoteRef {
    #[sqlx(try_from = "Uuid")]
    pub credit_note_id: crate::domain::CreditNoteId,
    pub number: String,
    pub issue_date: NaiveDate,
    pub reason: credit_notes::CreditReason,
    pub total_cents: i64,
    pub applied_cents: i64,
    pub excess_cents: i64,
    pub excess_to: Option<credit_notes::ExcessTo>,
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
