//! Closing what is due without a payment: a write-off (a bad debt) and the customer's own credit
//! applied to an invoice. Both are entries of the invoice's ledger (`invoice_settlements`), dated,
//! so every report as of any date counts them.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use sqlx::PgConnection;

use super::{InvoiceService, InvoiceStatus, check, lock};
use crate::domain::audit::{AuditAction, Change};
use crate::domain::calendar;
use crate::domain::idempotency::{Keyed, Written};
use crate::domain::state::Action;
use crate::domain::write::{Begun, Write};
use crate::domain::{Actor, DomainError, InvoiceId};

/// What a write-off or a credit application did to the invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub invoice_id: InvoiceId,
    pub status: InvoiceStatus,
    pub currency: String,
    pub total_cents: i64,
    /// What this move took off what was due.
    pub amount_cents: i64,
    pub amount_due_cents: i64,
    /// The customer's credit in the invoice's currency, after the move.
    pub credit_left_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WriteOff {
    pub reason: String,
    /// Defaults to the tenant's today; not in the future, not before the invoice's issue date.
    pub written_off_on: Option<NaiveDate>,
}

/// The customer's credit in one currency, at the end of today, read under a lock on that
/// (customer, currency) pair: concurrent uses of one customer's credit queue here.
async fn locked_credit(
    conn: &mut PgConnection,
    tenant: &str,
    customer: &str,
    currency: &str,
) -> Result<i64, DomainError> {
    sqlx::query(
        "select pg_advisory_xact_lock(hashtextextended('customer_credit/' || $1 || '/' || $2 || '/' || $3, 0))",
    )
    .bind(tenant)
    .bind(customer)
    .bind(currency)
    .execute(&mut *conn)
    .await?;
    credit_of(conn, tenant, customer, currency).await
}

/// The customer's credit in one currency (Σ of its ledger), without a lock.
async fn credit_of(conn: &mut PgConnection, tenant: &str, customer: &str, currency: &str) -> Result<i64, DomainError> {
    Ok(sqlx::query_scalar(
        "select coalesce(sum(amount_cents), 0)::bigint from customer_credit
          where tenant_id = $1 and customer_id = $2 and currency = $3",
    )
    .bind(tenant)
    .bind(customer)
    .bind(currency)
    .fetch_one(conn)
    .await?)
}

impl InvoiceService {
    /// Closes everything still due on a sent or overdue invoice as a bad debt.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn write_off(
        &self,
        actor: &Actor,
        id: InvoiceId,
        w_off: WriteOff,
        key: Option<Keyed<Settled>>,
    ) -> Result<Written<Settled>, DomainError> {
        let mut w = match Write::begin(self.pool(), actor, key, &(id, &w_off)).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let locked = lock(w.conn(), &actor.tenant_id, id).await?;
        check(&locked, Action::WriteOff)?;
        let today = locked.today;
        let day = w_off.written_off_on.unwrap_or(today);
        calendar::not_after_today("written_off_on", day, today, "a write-off is recorded once it is decided")?;
        let issued = locked.issue_date.ok_or(DomainError::Inconsistent("a sent invoice has no issue date"))?;
        if day < issued {
            return Err(DomainError::InvalidInput {
                field: "written_off_on",
                message: format!("The invoice was issued {issued}; it cannot be written off before that."),
                expected: format!("a date from {issued} to {today}"),
            });
        }
        let amount = locked.due_cents();
        let tenant = w.tenant();
        sqlx::query(
            "insert into invoice_settlements (tenant_id, invoice_id, kind, amount_cents, dated, note)
             values ($1, $2, 'write_off', $3, $4, $5)",
        )
        .bind(tenant)
        .bind(id.0)
        .bind(amount)
        .bind(day)
        .bind(&w_off.reason)
        .execute(w.conn())
        .await?;
        sqlx::query(
            "update invoices set status = 'written_off', settled_on = settled_day(tenant_id, invoice_id, issue_date),
                    updated_at = now()
              where tenant_id = $1 and invoice_id = $2",
        )
        .bind(tenant)
        .bind(id.0)
        .execute(w.conn())
        .await?;
        let id_text = id.to_string();
        w.audit(
            Change::invoice(&id_text, AuditAction::WrittenOff)
                .status(Some(locked.status), InvoiceStatus::WrittenOff)
                .amount(amount, &locked.currency)
                .details(json!({ "reason": w_off.reason, "written_off_on": day })),
        )
        .await?;
        let credit_left_cents = credit_of(w.conn(), tenant, &locked.customer_id, &locked.currency).await?;
        w.commit(Settled {
            invoice_id: id,
            status: InvoiceStatus::WrittenOff,
            currency: locked.currency,
            total_cents: locked.total_cents,
            amount_cents: amount,
            amount_due_cents: 0,
            credit_left_cents,
        })
        .await
    }

    /// Applies the customer's credit (in the invoice's currency) to a sent or overdue invoice:
    /// `amount` of it, or as much as both allow.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn apply_credit(
        &self,
        actor: &Actor,
        id: InvoiceId,
        amount: Option<i64>,
        key: Option<Keyed<Settled>>,
    ) -> Result<Written<Settled>, DomainError> {
        let mut w = match Write::begin(self.pool(), actor, key, &(id, amount)).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let locked = lock(w.conn(), &actor.tenant_id, id).await?;
        check(&locked, Action::ApplyCredit)?;
        let tenant = w.tenant();
        let credit = locked_credit(w.conn(), tenant, &locked.customer_id, &locked.currency).await?;
        let due = locked.due_cents();
        let most = credit.min(due);
        if most <= 0 {
            return Err(DomainError::InvalidInput {
                field: "invoice_id",
                message: format!(
                    "Customer {:?} has no credit in {} to apply (credit notes' excess kept as customer_credit, or \
                     overpayments, make it).",
                    locked.customer_id, locked.currency
                ),
                expected: "an invoice whose customer has credit in the invoice's currency".into(),
            });
        }
        let amount = amount.unwrap_or(most);
        if amount > most {
            let why = if credit < due {
                format!("the customer has {credit} of credit in {}", locked.currency)
            } else {
                format!("only {due} is due on the invoice")
            };
            return Err(DomainError::InvalidInput {
                field: "amount_cents",
                message: format!("{amount} cannot be applied: {why}."),
                expected: format!("an amount from 1 to {most}, or none for {most}"),
            });
        }
        let today = locked.today;
        // Dated today, and never before the invoice was issued.
        let day = locked.issue_date.map_or(today, |d| d.max(today));
        sqlx::query(
            "with used as (
                 insert into customer_credit (tenant_id, customer_id, currency, kind, amount_cents, dated, invoice_id)
                 values ($1, $3, $4, 'applied', -($5::bigint), $6, $2)
             )
             insert into invoice_settlements (tenant_id, invoice_id, kind, amount_cents, dated, note)
             values ($1, $2, 'credit', $5, $6, 'customer credit applied')",
        )
        .bind(tenant)
        .bind(id.0)
        .bind(&locked.customer_id)
        .bind(&locked.currency)
        .bind(amount)
        .bind(day)
        .execute(w.conn())
        .await?;
        let left = due - amount;
        let status = if left == 0 { InvoiceStatus::Paid } else { locked.status };
        if left == 0 {
            sqlx::query(
                "update invoices set status = 'paid', settled_on = settled_day(tenant_id, invoice_id, issue_date),
                        updated_at = now()
                  where tenant_id = $1 and invoice_id = $2",
            )
            .bind(tenant)
            .bind(id.0)
            .execute(w.conn())
            .await?;
        }
        let id_text = id.to_string();
        w.audit(
            Change::invoice(&id_text, AuditAction::CreditApplied)
                .status(Some(locked.status), status)
                .amount(amount, &locked.currency)
                .details(json!({ "amount_due_cents": left, "credit_left_cents": credit - amount })),
        )
        .await?;
        w.commit(Settled {
            invoice_id: id,
            status,
            currency: locked.currency,
            total_cents: locked.total_cents,
            amount_cents: amount,
            amount_due_cents: left,
            credit_left_cents: credit - amount,
        })
        .await
    }
}
