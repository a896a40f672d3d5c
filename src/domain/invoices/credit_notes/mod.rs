//! Credit notes: the only correction of an issued invoice (Directive 2006/112/EC art. 219: a
//! document that amends an invoice is itself an invoice). Each has its own gapless number, the
//! invoice's frozen parties, and figures from the invoice's own ([`figures`]). What it credits
//! reduces what is still due on the invoice (the applied part); the rest was paid already and goes
//! where the caller says: back to the customer (a refund), to the customer's credit, or settled
//! outside Tally.

pub mod figures;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::moves::Locked;
use super::payments::PaymentMethod;
use super::read::load;
use super::{InvoiceService, InvoiceStatus, check, lock};
use crate::domain::audit::{AuditAction, Change};
use crate::domain::calendar;
use crate::domain::idempotency::{Keyed, Written};
use crate::domain::state::Action;
use crate::domain::tax::TaxMode;
use crate::domain::tax::engine::{AdjustmentKind, Group};
use crate::domain::write::{Begun, Write};
use crate::domain::{Actor, CreditNoteId, DomainError, Entity, InvoiceId, RefundId};
use figures::{CreditRequest, CreditedLine, CreditedSet, Figures, SetAdjustment};

/// Why a credit note was issued (UNTDID 4451-style reasons an accountant recognizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum CreditReason {
    Duplicate,
    OrderChange,
    ProductUnsatisfactory,
    PricingError,
    /// Issued by void_invoice (tax mode vat): the invoice is cancelled by crediting it in full.
    Void,
    Other,
}

impl CreditReason {
    /// The reasons a caller may give (void is void_invoice's own).
    pub const GIVEN: [Self; 5] =
        [Self::Duplicate, Self::OrderChange, Self::ProductUnsatisfactory, Self::PricingError, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::OrderChange => "order_change",
            Self::ProductUnsatisfactory => "product_unsatisfactory",
            Self::PricingError => "pricing_error",
            Self::Void => "void",
            Self::Other => "other",
        }
    }
}

/// Where the part of a credit note beyond what was still due goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ExcessTo {
    /// Paid back to the customer (recorded as a refund).
    Refund,
    /// Kept as the customer's credit, for its later invoices in the same currency.
    CustomerCredit,
    /// Settled outside Tally (recorded, so the books still balance).
    OutOfBand,
}

impl ExcessTo {
    pub const ALL: [Self; 3] = [Self::Refund, Self::CustomerCredit, Self::OutOfBand];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refund => "refund",
            Self::CustomerCredit => "customer_credit",
            Self::OutOfBand => "out_of_band",
        }
    }
}

/// How a refund is paid back; the day defaults to the credit note's.
#[derive(Debug, Clone, Serialize)]
pub struct RefundDetails {
    pub refunded_on: Option<NaiveDate>,
    pub method: PaymentMethod,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewCreditNote {
    pub request: CreditRequest,
    pub reason: CreditReason,
    pub memo: Option<String>,
    /// Defaults to the tenant's today.
    pub issue_date: Option<NaiveDate>,
    /// Required when the credit note exceeds what is still due.
    pub excess_to: Option<ExcessTo>,
    pub refund: Option<RefundDetails>,
}

pub use super::CreditNoteRef;

/// Money that went back to the customer (or was settled outside Tally).
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Refund {
    #[sqlx(try_from = "Uuid")]
    pub refund_id: RefundId,
    pub amount_cents: i64,
    pub refunded_on: NaiveDate,
    /// A payment method, or `out_of_band`.
    pub method: String,
    pub reference: Option<String>,
}

impl From<Uuid> for RefundId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl From<Uuid> for CreditNoteId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

/// A credit note as issued.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct CreditNote {
    #[sqlx(try_from = "Uuid")]
    pub credit_note_id: CreditNoteId,
    pub number: String,
    #[sqlx(try_from = "Uuid")]
    pub invoice_id: InvoiceId,
    pub invoice_number: String,
    pub invoice_issue_date: NaiveDate,
    pub customer_id: String,
    pub currency: String,
    pub issue_date: NaiveDate,
    pub reason: CreditReason,
    pub memo: Option<String>,
    pub tax_mode: TaxMode,
    pub prices_include_tax: bool,
    pub lines: Json<Vec<CreditedLine>>,
    pub sets: Json<Vec<CreditedSet>>,
    pub tax_breakdown: Json<Vec<Group>>,
    pub subtotal_cents: i64,
    pub allowance_cents: i64,
    pub charge_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    /// What reduced the amount due on the invoice.
    pub applied_cents: i64,
    /// What had been paid already, and where it went (`excess_to`).
    pub excess_cents: i64,
    pub excess_to: Option<ExcessTo>,
    pub seller: Json<serde_json::Value>,
    pub buyer: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub refund: Option<Refund>,
}

impl CreditNote {
    fn figures(&self) -> Figures {
        Figures {
            lines: self.lines.0.clone(),
            sets: self.sets.0.clone(),
            groups: self.tax_breakdown.0.clone(),
            subtotal: self.subtotal_cents,
            allowances: self.allowance_cents,
            charges: self.charge_cents,
            tax: self.tax_cents,
            total: self.total_cents,
        }
    }
}

/// A credit note issued, with the invoice as it now stands.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditNoteReceipt {
    pub credit_note: CreditNote,
    pub invoice_status: InvoiceStatus,
    pub invoice_amount_due_cents: i64,
}

const COLUMNS: &str = "credit_note_id, number, invoice_id, invoice_number, invoice_issue_date, customer_id, currency, \
     issue_date, reason, memo, tax_mode, prices_include_tax, lines, sets, tax_breakdown, subtotal_cents, allowance_cents, \
     charge_cents, tax_cents, total_cents, applied_cents, excess_cents, excess_to, seller, buyer, created_at";

/// The credit notes of one invoice, oldest first.
pub(crate) async fn of_invoice(
    conn: &mut PgConnection,
    tenant: &str,
    id: InvoiceId,
) -> Result<Vec<CreditNote>, DomainError> {
    let mut notes: Vec<CreditNote> = sqlx::query_as(&format!(
        "select {COLUMNS} from credit_notes where tenant_id = $1 and invoice_id = $2 order by created_at, number"
    ))
    .bind(tenant)
    .bind(id.0)
    .fetch_all(&mut *conn)
    .await?;
    for n in &mut notes {
        n.refund = refund_of(&mut *conn, tenant, n.credit_note_id).await?;
    }
    Ok(notes)
}

async fn refund_of(conn: &mut PgConnection, tenant: &str, id: CreditNoteId) -> Result<Option<Refund>, DomainError> {
    Ok(sqlx::query_as(
        "select refund_id, amount_cents, refunded_on, method, reference from refunds
          where tenant_id = $1 and credit_note_id = $2",
    )
    .bind(tenant)
    .bind(id.0)
    .fetch_optional(conn)
    .await?)
}

async fn read_one(conn: &mut PgConnection, tenant: &str, id: CreditNoteId) -> Result<CreditNote, DomainError> {
    let mut note: CreditNote =
        sqlx::query_as(&format!("select {COLUMNS} from credit_notes where tenant_id = $1 and credit_note_id = $2"))
            .bind(tenant)
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| DomainError::NotFound { entity: Entity::CreditNote, id: id.to_string() })?;
    note.refund = refund_of(conn, tenant, id).await?;
    Ok(note)
}

/// The invoice's figures as a credit reads them.
async fn creditable(conn: &mut PgConnection, tenant: &str, id: InvoiceId) -> Result<figures::Invoice, DomainError> {
    let invoice = load(conn, tenant, id).await?;
    let lines = invoice
        .line_items
        .iter()
        .map(|l| figures::InvoiceLine {
            line_no: l.line_no,
            description: l.description.clone(),
            unit_code: l.unit_code.clone(),
            unit_price: l.amount_cents,
            quantity: l.quantity,
            amount: l.line_total_cents,
            net: l.net_cents,
            rates: l.taxes.0.clone(),
        })
        .collect();
    let mut set_adjustments: Vec<SetAdjustment> = Vec::new();
    for a in invoice.taxes.adjustments.0.iter() {
        let sign = if a.kind == AdjustmentKind::Allowance { -1 } else { 1 };
        // One part per tax set, in the sets' order.
        for (set, p) in a.parts.iter().enumerate() {
            if set_adjustments.len() <= set {
                set_adjustments.resize(set + 1, SetAdjustment::default());
            }
            set_adjustments[set].net += sign * p.net_cents;
            set_adjustments[set].amount += sign * p.amount_cents;
        }
    }
    Ok(figures::Invoice {
        mode: invoice.taxes.tax_mode,
        inclusive: invoice.taxes.prices_include_tax,
        lines,
        set_adjustments,
        groups: invoice.taxes.tax_breakdown.0.clone(),
    })
}

impl InvoiceService {
    /// Issues a credit note against a sent, overdue or paid invoice.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn create_credit_note(
        &self,
        actor: &Actor,
        id: InvoiceId,
        new: NewCreditNote,
        key: Option<Keyed<CreditNoteReceipt>>,
    ) -> Result<Written<CreditNoteReceipt>, DomainError> {
        let mut w = match Write::begin(self.pool(), actor, key, &(id, &new)).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let locked = lock(w.conn(), &actor.tenant_id, id).await?;
        check(&locked, Action::Credit)?;
        let (note, status, due) = issue(&mut w, id, &locked, &new).await?;
        w.commit(CreditNoteReceipt { credit_note: note, invoice_status: status, invoice_amount_due_cents: due }).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn get_credit_note(&self, tenant: &str, id: CreditNoteId) -> Result<CreditNote, DomainError> {
        let mut tx = crate::db::begin_for(self.pool(), tenant).await?;
        read_one(&mut tx, tenant, id).await
    }

    /// The credit notes of an invoice, or of a customer, or all: newest first, at most `limit`.
    #[tracing::instrument(skip_all)]
    pub async fn list_credit_notes(
        &self,
        tenant: &str,
        invoice_id: Option<InvoiceId>,
        customer_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CreditNote>, DomainError> {
        let mut tx = crate::db::begin_for(self.pool(), tenant).await?;
        let mut notes: Vec<CreditNote> = sqlx::query_as(&format!(
            "select {COLUMNS} from credit_notes
              where tenant_id = $1 and ($2::uuid is null or invoice_id = $2) and ($3::text is null or customer_id = $3)
              order by created_at desc, credit_note_id desc limit $4"
        ))
        .bind(tenant)
        .bind(invoice_id.map(|i| i.0))
        .bind(customer_id)
        .bind(i64::from(limit.clamp(1, 100)))
        .fetch_all(&mut *tx)
        .await?;
        for n in &mut notes {
            n.refund = refund_of(&mut tx, tenant, n.credit_note_id).await?;
        }
        Ok(notes)
    }
}

/// Issues a credit note inside `w`, on the invoice `locked` (its row locked, its move checked):
/// figures, number, ledger, where the excess goes, the invoice's new state, the audit. Returns
/// the note and the invoice's status and amount due after it.
pub(crate) async fn issue<T>(
    w: &mut Write<'_, T>,
    id: InvoiceId,
    locked: &Locked,
    new: &NewCreditNote,
) -> Result<(CreditNote, InvoiceStatus, i64), DomainError> {
    let tenant = w.tenant();
    let today = locked.today;
    let invoice_issued = locked.issue_date.ok_or(DomainError::Inconsistent("a sent invoice has no issue date"))?;
    let issue_date = new.issue_date.unwrap_or(today);
    calendar::not_after_today("issue_date", issue_date, today, "a credit note cannot be dated in the future")?;
    if issue_date < invoice_issued {
        return Err(DomainError::InvalidInput {
            field: "issue_date",
            message: format!("The invoice was issued {invoice_issued}; a credit note cannot be dated before it."),
            expected: format!("a date from {invoice_issued} to {today}"),
        });
    }
    let invoice = creditable(w.conn(), tenant, id).await?;
    let earlier: Vec<Figures> = of_invoice(w.conn(), tenant, id).await?.iter().map(CreditNote::figures).collect();
    let f = figures::credit(&invoice, &earlier, &new.request).map_err(|r| DomainError::Refused {
        path: r.path,
        message: r.message,
        expected: r.expected,
    })?;

    // Where the money goes: up to what is still due reduces it; the rest was paid already.
    let due = locked.due_cents();
    let applied = f.total.min(due.max(0));
    let excess = f.total - applied;
    let excess_to = if excess > 0 {
        Some(new.excess_to.ok_or_else(|| DomainError::InvalidInput {
            field: "excess_to",
            message: format!(
                "The credit note comes to {} and only {} is still due on the invoice: {} was paid already. Say where \
                 it goes: refund (paid back; give refund.method and refund.refunded_on), customer_credit (kept for the \
                 customer's later invoices in {}), or out_of_band (settled outside Tally).",
                f.total, applied, excess, locked.currency
            ),
            expected: "excess_to: refund, customer_credit or out_of_band".into(),
        })?)
    } else {
        None
    };
    let refund_day = match (excess_to, &new.refund) {
        (Some(ExcessTo::Refund), Some(r)) => r.refunded_on.unwrap_or(issue_date),
        _ => issue_date,
    };
    if excess_to == Some(ExcessTo::Refund) {
        calendar::not_after_today("refund.refunded_on", refund_day, today, "a refund is recorded once it is paid")?;
        if refund_day < issue_date {
            return Err(DomainError::InvalidInput {
                field: "refund.refunded_on",
                message: format!("The refund is dated {refund_day}, before its credit note ({issue_date})."),
                expected: format!("a date from {issue_date} to {today}"),
            });
        }
    }

    // The number: the counter row's lock serializes concurrent credit notes; a rollback gives it back.
    let (prefix, n): (String, i64) = sqlx::query_as(
        "with next as (
             insert into credit_note_counters (tenant_id, last_number) values ($1, 1)
             on conflict (tenant_id) do update set last_number = credit_note_counters.last_number + 1
             returning last_number
         )
         select t.credit_note_prefix, next.last_number from next, tenants t where t.tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(w.conn())
    .await?;
    let number = format!("{prefix}{n:06}");
    let note_id = CreditNoteId::generate();
    // Under the counter's lock: the series' dates never go back.
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "insert into credit_notes (credit_note_id, tenant_id, invoice_id, customer_id, currency, number, issue_date,
                                   reason, memo, invoice_number, invoice_issue_date, seller, buyer, tax_mode,
                                   prices_include_tax, lines, sets, tax_breakdown, subtotal_cents, allowance_cents,
                                   charge_cents, tax_cents, total_cents, applied_cents, excess_cents, excess_to)
         select $1, i.tenant_id, i.invoice_id, i.customer_id, i.currency, $3, $4, $5, $6, i.number, i.issue_date,
                i.seller, i.buyer, i.tax_mode, i.prices_include_tax, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17
           from invoices i
          where i.tenant_id = $18 and i.invoice_id = $2
            and not exists (select 1 from credit_notes c where c.tenant_id = $18 and c.issue_date > $4)
         returning credit_note_id",
    )
    .bind(note_id.0)
    .bind(id.0)
    .bind(&number)
    .bind(issue_date)
    .bind(new.reason)
    .bind(&new.memo)
    .bind(Json(&f.lines))
    .bind(Json(&f.sets))
    .bind(Json(&f.groups))
    .bind(f.subtotal)
    .bind(f.allowances)
    .bind(f.charges)
    .bind(f.tax)
    .bind(f.total)
    .bind(applied)
    .bind(excess)
    .bind(excess_to)
    .bind(tenant)
    .fetch_optional(w.conn())
    .await?;
    if inserted.is_none() {
        let latest: Option<NaiveDate> =
            sqlx::query_scalar("select max(issue_date) from credit_notes where tenant_id = $1")
                .bind(tenant)
                .fetch_one(w.conn())
                .await?;
        let latest = latest.unwrap_or(issue_date);
        return Err(DomainError::InvalidInput {
            field: "issue_date",
            message: format!(
                "issue_date {issue_date} is before {latest}, the date of the latest credit note in this number \
                 series; credit note numbers and dates rise together"
            ),
            expected: format!("a date from {} to {today}", latest.max(invoice_issued)),
        });
    }

    // The ledger: the applied part settles the invoice; the excess is the customer's credit, until
    // it is paid back or settled elsewhere.
    if applied > 0 {
        sqlx::query(
            "insert into invoice_settlements (tenant_id, invoice_id, kind, amount_cents, dated, credit_note_id, note)
             values ($1, $2, 'credit_note', $3, $4, $5, $6)",
        )
        .bind(tenant)
        .bind(id.0)
        .bind(applied)
        .bind(issue_date)
        .bind(note_id.0)
        .bind(&number)
        .execute(w.conn())
        .await?;
    }
    if let Some(to) = excess_to {
        credit_entry(w.conn(), tenant, locked, "credit_note", excess, issue_date, note_id, None).await?;
        let back = match to {
            ExcessTo::Refund => {
                let r = new.refund.clone().unwrap_or(RefundDetails {
                    refunded_on: None,
                    method: PaymentMethod::BankTransfer,
                    reference: None,
                });
                Some((r.method.as_str(), r.reference, refund_day))
            }
            ExcessTo::OutOfBand => Some(("out_of_band", None, issue_date)),
            ExcessTo::CustomerCredit => None,
        };
        if let Some((method, reference, day)) = back {
            let refund_id = RefundId::generate();
            sqlx::query(
                "insert into refunds (refund_id, tenant_id, customer_id, currency, amount_cents, refunded_on, method,
                                      reference, credit_note_id)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(refund_id.0)
            .bind(tenant)
            .bind(&locked.customer_id)
            .bind(&locked.currency)
            .bind(excess)
            .bind(day)
            .bind(method)
            .bind(&reference)
            .bind(note_id.0)
            .execute(w.conn())
            .await?;
            credit_entry(w.conn(), tenant, locked, "refund", -excess, day, note_id, Some(refund_id)).await?;
        }
    }

    // The invoice: nothing due once settled; void when credit notes alone settled it.
    let settled = locked.settled_cents + applied;
    let closed = settled == locked.total_cents;
    let status = if !closed {
        locked.status
    } else {
        let others: bool = sqlx::query_scalar(
            "select exists (select 1 from invoice_settlements s
                             where s.tenant_id = $1 and s.invoice_id = $2 and s.kind <> 'credit_note')",
        )
        .bind(tenant)
        .bind(id.0)
        .fetch_one(w.conn())
        .await?;
        if others { InvoiceStatus::Paid } else { InvoiceStatus::Void }
    };
    if closed {
        sqlx::query(
            "update invoices set status = $3,
                    voided_at = case when $3 = 'void' then now() end,
                    void_reason = case when $3 = 'void' then $4 end,
                    void_date = case when $3 = 'void' then $5::date end,
                    settled_on = settled_day(tenant_id, invoice_id, issue_date), updated_at = now()
              where tenant_id = $1 and invoice_id = $2",
        )
        .bind(tenant)
        .bind(id.0)
        .bind(status.as_str())
        .bind(format!("Credited in full by credit note {number}"))
        .bind(issue_date)
        .execute(w.conn())
        .await?;
    }
    let note_text = note_id.to_string();
    let invoice_text = id.to_string();
    let details = json!({
        "credit_note_id": note_text, "number": number, "reason": new.reason, "applied_cents": applied,
        "excess_cents": excess, "excess_to": excess_to, "amount_due_cents": locked.total_cents - settled,
    });
    w.audit(
        Change::invoice(&invoice_text, AuditAction::Credited)
            .status(Some(locked.status), status)
            .amount(f.total, &locked.currency)
            .details(details.clone()),
    )
    .await?;
    w.audit(
        Change::of(Entity::CreditNote, &note_text, AuditAction::Issued)
            .amount(f.total, &locked.currency)
            .details(json!({ "invoice_id": invoice_text, "number": number, "reason": new.reason })),
    )
    .await?;
    if matches!(excess_to, Some(ExcessTo::Refund | ExcessTo::OutOfBand)) {
        w.audit(
            Change::of(Entity::CreditNote, &note_text, AuditAction::Refunded)
                .amount(excess, &locked.currency)
                .details(json!({ "excess_to": excess_to, "refunded_on": refund_day })),
        )
        .await?;
    }
    let note = read_one(w.conn(), tenant, note_id).await?;
    Ok((note, status, locked.total_cents - settled))
}

/// One entry of the customer's credit ledger.
#[allow(clippy::too_many_arguments)]
async fn credit_entry(
    conn: &mut PgConnection,
    tenant: &str,
    locked: &Locked,
    kind: &str,
    amount: i64,
    dated: NaiveDate,
    note: CreditNoteId,
    refund: Option<RefundId>,
) -> Result<(), DomainError> {
    sqlx::query(
        "insert into customer_credit (tenant_id, customer_id, currency, kind, amount_cents, dated, credit_note_id,
                                      refund_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant)
    .bind(&locked.customer_id)
    .bind(&locked.currency)
    .bind(kind)
    .bind(amount)
    .bind(dated)
    .bind(note.0)
    .bind(refund.map(|r| r.0))
    .execute(conn)
    .await?;
    Ok(())
}
