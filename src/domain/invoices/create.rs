//! Creating a draft: the invoice and its lines in one transaction, idempotent.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Invoice, InvoiceService, InvoiceStatus, InvoiceSummary, LineItem, NewInvoice, NewLine};
use crate::domain::audit::{self, Change};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::money;
use crate::domain::write::{Begun, Write};
use crate::domain::{Actor, DomainError, InvoiceId};

impl InvoiceService {
    /// Creates a draft invoice and its lines. With an idempotency key, a repeat returns the
    /// first result and a different request under the key is refused.
    #[tracing::instrument(skip_all, fields(lines = new.line_items.len()))]
    pub async fn create(&self, actor: &Actor, new: NewInvoice, key: Option<String>) -> Result<Invoice, DomainError> {
        let total = money::total_of(new.line_items.iter().map(|l| (l.amount_cents, i64::from(l.quantity))))
            .ok_or_else(|| DomainError::OutOfRange {
                path: "line_items".into(),
                message: format!("The invoice total exceeds the maximum of {} minor units", money::MAX_TOTAL),
            })?;
        let key = key.map(|k| IdempotencyKey::new(actor.via, k, &new));
        let mut w = match Write::begin(&self.pool, actor, key).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        let id = InvoiceId::generate();
        let created_at: DateTime<Utc> = sqlx::query_scalar(
            "insert into invoices (invoice_id, tenant_id, customer_id, currency, total_cents, due_date, memo)
             values ($1, $2, $3, $4, $5, $6, $7) returning created_at",
        )
        .bind(id.0)
        .bind(w.tenant())
        .bind(&new.customer_id)
        .bind(new.currency.code())
        .bind(total)
        .bind(new.due_date)
        .bind(&new.memo)
        .fetch_one(w.conn())
        .await?;
        let line_items = insert_lines(&mut w, id, &new.line_items).await?;
        let id_text = id.to_string();
        w.audit(
            Change::invoice(&id_text, "created")
                .status(None, "draft")
                .amount(total, new.currency.code())
                .details(json!({ "customer_id": new.customer_id, "lines": line_items.len() })),
        )
        .await?;
        let history = audit::history(w.conn(), &actor.tenant_id, "invoice", &id_text).await?;
        let invoice = Invoice {
            summary: InvoiceSummary {
                invoice_id: id,
                number: None,
                status: InvoiceStatus::Draft,
                customer_id: new.customer_id,
                currency: new.currency.code().to_owned(),
                total_cents: total,
                amount_paid_cents: 0,
                amount_due_cents: total,
                amount_due_formatted: String::new(),
                due_date: new.due_date,
                issued_at: None,
                memo: new.memo,
                created_at,
            }
            .derive(),
            line_items,
            payments: vec![],
            voided_at: None,
            void_reason: None,
            history,
        };
        w.commit(&invoice).await?;
        Ok(invoice)
    }
}

/// Writes the lines in one statement; totals per line are computed by Postgres and checked by
/// a constraint.
pub(super) async fn insert_lines(
    w: &mut Write<'_>,
    id: InvoiceId,
    lines: &[NewLine],
) -> Result<Vec<LineItem>, DomainError> {
    let descriptions: Vec<&str> = lines.iter().map(|l| l.description.as_str()).collect();
    let amounts: Vec<i64> = lines.iter().map(|l| l.amount_cents).collect();
    let quantities: Vec<i32> = lines.iter().map(|l| l.quantity).collect();
    let tenant = w.tenant();
    Ok(sqlx::query_as(
        "insert into invoice_lines (invoice_id, line_no, tenant_id, description, amount_cents, quantity, line_total_cents)
         select $1, l.line_no, $2, l.description, l.amount_cents, l.quantity, l.amount_cents * l.quantity
           from unnest($3::text[], $4::bigint[], $5::integer[]) with ordinality
                as l(description, amount_cents, quantity, line_no)
         returning line_no::integer, description, amount_cents, quantity, line_total_cents",
    )
    .bind(id.0)
    .bind(tenant)
    .bind(&descriptions)
    .bind(&amounts)
    .bind(&quantities)
    .fetch_all(w.conn())
    .await?)
}
