//! Payments against sent invoices: partial payments are normal, the invoice is paid when
//! nothing is due, and concurrent payments on one invoice never over-apply (the invoice row is
//! locked for the payment's transaction, and a constraint keeps paid ≤ total).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{InvoiceService, InvoiceStatus, check, lock};
use crate::domain::audit::{AuditAction, Change};
use crate::domain::calendar;
use crate::domain::idempotency::{Keyed, Written};
use crate::domain::money::Money;
use crate::domain::state::Action;
use crate::domain::write::{Begun, Write};
use crate::domain::{Actor, DomainError, InvoiceId, PaymentId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    BankTransfer,
    Card,
    Cash,
    Check,
    Other,
}

impl PaymentMethod {
    /// Every method, in the order schemas list them.
    pub const ALL: [Self; 5] = [Self::BankTransfer, Self::Card, Self::Cash, Self::Check, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BankTransfer => "bank_transfer",
            Self::Card => "card",
            Self::Cash => "cash",
            Self::Check => "check",
            Self::Other => "other",
        }
    }
}

impl TryFrom<String> for PaymentMethod {
    type Error = String;

    fn try_from(stored: String) -> Result<Self, String> {
        Self::ALL.into_iter().find(|m| m.as_str() == stored).ok_or_else(|| format!("unknown payment method {stored:?}"))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NewPayment {
    pub amount_cents: i64,
    /// The day the money arrived; the tenant's today when not given, never after it.
    pub paid_on: Option<NaiveDate>,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    /// Money that arrived beyond what is due is kept as the customer's credit, instead of
    /// refused.
    pub excess_to_credit: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub payment_id: PaymentId,
    pub amount_cents: i64,
    pub currency: String,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub paid_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl Payment {
    pub fn amount(&self) -> Money {
        Money::of(self.amount_cents, &self.currency)
    }
}

/// The result of applying a payment: the payment and the invoice's new balance.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentReceipt {
    pub payment: Payment,
    pub invoice_id: InvoiceId,
    pub status: InvoiceStatus,
    pub currency: String,
    pub total_cents: i64,
    pub amount_paid_cents: i64,
    pub amount_due_cents: i64,
    /// The part of the payment kept as the customer's credit (excess_to_credit).
    pub excess_to_credit_cents: i64,
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    payment_id: Uuid,
    amount_cents: i64,
    currency: String,
    /// A stored method Tally does not know is a decode error, never silently `other`.
    #[sqlx(try_from = "String")]
    method: PaymentMethod,
    reference: Option<String>,
    paid_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl From<PaymentRow> for Payment {
    fn from(r: PaymentRow) -> Self {
        Self {
            payment_id: PaymentId(r.payment_id),
            amount_cents: r.amount_cents,
            currency: r.currency,
            method: r.method,
            reference: r.reference,
            paid_at: r.paid_at,
            created_at: r.created_at,
        }
    }
}

pub(crate) async fn of_invoice(
    conn: &mut PgConnection,
    tenant: &str,
    id: InvoiceId,
) -> Result<Vec<Payment>, DomainError> {
    let rows: Vec<PaymentRow> = sqlx::query_as(
        "select payment_id, amount_cents, currency, method, reference, paid_at, created_at
           from payments where tenant_id = $1 and invoice_id = $2 order by created_at, payment_id",
    )
    .bind(tenant)
    .bind(id.0)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Payment::from).collect())
}

impl InvoiceService {
    /// Records a payment in the invoice's currency. Refused for drafts, void and paid invoices
    /// (invalid state) and for more than is due (with the amount due).
    #[tracing::instrument(skip_all, fields(%id, amount = p.amount_cents))]
    pub async fn apply_payment(
        &self,
        actor: &Actor,
        id: InvoiceId,
        p: NewPayment,
        key: Option<Keyed<PaymentReceipt>>,
    ) -> Result<Written<PaymentReceipt>, DomainError> {
        let mut w = match Write::begin(self.pool(), actor, key, &(id, &p)).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let locked = lock(w.conn(), &actor.tenant_id, id).await?;
        let today = locked.today;
        let paid_on = p.paid_on.unwrap_or(today);
        calendar::not_after_today("paid_at", paid_on, today, "a payment is recorded once the money has arrived")?;
        check(&locked, Action::ApplyPayment)?;
        let due = locked.due_cents();
        let excess = (p.amount_cents - due).max(0);
        if excess > 0 && !p.excess_to_credit {
            return Err(DomainError::Overpayment {
                amount_cents: p.amount_cents,
                due_cents: due,
                currency: locked.currency.clone(),
            });
        }
        let payment_id = PaymentId::generate();
        // paid_at is the day's midnight, UTC: the day is what is recorded (payments.paid_on).
        let row: PaymentRow = sqlx::query_as(
            "insert into payments (payment_id, tenant_id, invoice_id, amount_cents, currency, method, reference, paid_at,
                                   excess_cents)
             values ($1, $2, $3, $4, $5, $6, $7, $8::date::timestamp at time zone 'UTC', $9)
             returning payment_id, amount_cents, currency, method, reference, paid_at, created_at",
        )
        .bind(payment_id.0)
        .bind(w.tenant())
        .bind(id.0)
        .bind(p.amount_cents)
        .bind(&locked.currency)
        .bind(p.method.as_str())
        .bind(&p.reference)
        .bind(paid_on)
        .bind(excess)
        .fetch_one(w.conn())
        .await?;
        if excess > 0 {
            // What is over is the customer's, from the day it counts on the invoice's books.
            let day = locked.issue_date.map_or(paid_on, |d| d.max(paid_on));
            sqlx::query(
                "insert into customer_credit (tenant_id, customer_id, currency, kind, amount_cents, dated, payment_id,
                                              invoice_id)
                 values ($1, $2, $3, 'overpayment', $4, $5, $6, $7)",
            )
            .bind(w.tenant())
            .bind(&locked.customer_id)
            .bind(&locked.currency)
            .bind(excess)
            .bind(day)
            .bind(payment_id.0)
            .bind(id.0)
            .execute(w.conn())
            .await?;
        }
        let applied = p.amount_cents - excess;
        let paid = locked.amount_paid_cents + applied;
        // The payment's row put its settlement on the invoice's ledger (a trigger): settled now.
        let settled = locked.settled_cents + applied;
        let status = if settled == locked.total_cents { InvoiceStatus::Paid } else { locked.status };
        sqlx::query(
            "update invoices set amount_paid_cents = $3, status = case when $4 then 'paid' else status end,
                    settled_on = case when $4 then settled_day(tenant_id, invoice_id, issue_date) end,
                    updated_at = now() where tenant_id = $1 and invoice_id = $2",
        )
        .bind(w.tenant())
        .bind(id.0)
        .bind(paid)
        .bind(settled == locked.total_cents)
        .execute(w.conn())
        .await?;
        let id_text = id.to_string();
        let payment_text = payment_id.to_string();
        w.audit(
            Change::invoice(&id_text, AuditAction::PaymentApplied)
                .status(Some(locked.status), status)
                .amount(p.amount_cents, &locked.currency)
                .details(json!({ "payment_id": payment_text, "method": p.method, "amount_paid_cents": paid, "amount_due_cents": locked.total_cents - settled, "excess_to_credit_cents": excess })),
        )
        .await?;
        let receipt = PaymentReceipt {
            payment: row.into(),
            invoice_id: id,
            status,
            currency: locked.currency,
            total_cents: locked.total_cents,
            amount_paid_cents: paid,
            amount_due_cents: locked.total_cents - settled,
            excess_to_credit_cents: excess,
        };
        w.commit(receipt).await
    }
}
