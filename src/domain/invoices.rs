//! Invoices and their lines: creation (one transaction, idempotent), lookup and keyset listing.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::cursor::{self, Position};
use super::idempotency::{self, Claim, IdempotencyKey};
use super::money::{self, Currency};
use super::{DomainError, InvoiceId};

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

/// Filters by the status callers see, overdue included.
pub type StatusFilter = InvoiceStatus;

/// The SQL for the status a caller sees; "today" is the UTC date.
const DISPLAY_STATUS: &str = "case when i.status = 'sent' and i.due_date < (now() at time zone 'utc')::date \
                              then 'overdue' else i.status end";

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct LineItem {
    pub line_no: i32,
    pub description: String,
    pub amount_cents: i64,
    pub quantity: i32,
    pub line_total_cents: i64,
}

/// An invoice without its lines, as listings show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct InvoiceSummary {
    #[sqlx(try_from = "Uuid")]
    pub invoice_id: InvoiceId,
    pub status: InvoiceStatus,
    pub customer_id: String,
    pub currency: String,
    pub total_cents: i64,
    pub amount_paid_cents: i64,
    pub amount_due_cents: i64,
    pub due_date: Option<NaiveDate>,
    pub memo: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Uuid> for InvoiceId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

/// An invoice with its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    #[serde(flatten)]
    pub summary: InvoiceSummary,
    pub line_items: Vec<LineItem>,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub customer_id: Option<String>,
    pub status: Option<StatusFilter>,
    pub limit: u32,
    pub cursor: Option<String>,
}

impl ListQuery {
    /// What a cursor is bound to: the filters, not the page size.
    fn filters(&self) -> String {
        format!("customer={:?};status={:?}", self.customer_id, self.status)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page {
    pub invoices: Vec<InvoiceSummary>,
    pub next_cursor: Option<String>,
}

const SUMMARY_COLUMNS: &str = "i.invoice_id, i.customer_id, i.currency, i.total_cents, i.amount_paid_cents, \
                               i.total_cents - i.amount_paid_cents as amount_due_cents, i.due_date, i.memo, i.created_at";

#[derive(Clone)]
pub struct InvoiceService {
    pool: PgPool,
}

impl InvoiceService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Creates a draft invoice and its lines in one transaction. With an idempotency key, a
    /// repeat returns the first result and a different request under the key is refused.
    #[tracing::instrument(skip_all, fields(tenant, lines = new.line_items.len()))]
    pub async fn create(
        &self,
        tenant: &str,
        new: NewInvoice,
        key: Option<String>,
    ) -> Result<Invoice, DomainError> {
        let total = money::total_of(
            new.line_items
                .iter()
                .map(|l| (l.amount_cents, i64::from(l.quantity))),
        )
        .ok_or_else(|| DomainError::OutOfRange {
            path: "line_items".into(),
            message: format!(
                "The invoice total exceeds the maximum of {} minor units",
                money::MAX_TOTAL
            ),
        })?;
        let key = key.map(|k| IdempotencyKey::new("create_invoice", k, &new));
        let mut tx = self.pool.begin().await?;
        if let Some(key) = &key
            && let Claim::Replay(first) =
                idempotency::claim::<Invoice>(&mut tx, tenant, key).await?
        {
            tx.rollback().await?;
            return Ok(first);
        }
        let id = InvoiceId::generate();
        let created_at: DateTime<Utc> = sqlx::query_scalar(
            "insert into invoices (invoice_id, tenant_id, customer_id, currency, total_cents, due_date, memo)
             values ($1, $2, $3, $4, $5, $6, $7) returning created_at",
        )
        .bind(id.0)
        .bind(tenant)
        .bind(&new.customer_id)
        .bind(new.currency.code())
        .bind(total)
        .bind(new.due_date)
        .bind(&new.memo)
        .fetch_one(&mut *tx)
        .await?;
        let descriptions: Vec<&str> = new
            .line_items
            .iter()
            .map(|l| l.description.as_str())
            .collect();
        let amounts: Vec<i64> = new.line_items.iter().map(|l| l.amount_cents).collect();
        let quantities: Vec<i32> = new.line_items.iter().map(|l| l.quantity).collect();
        let line_items: Vec<LineItem> = sqlx::query_as(
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
        .fetch_all(&mut *tx)
        .await?;
        let invoice = Invoice {
            summary: InvoiceSummary {
                invoice_id: id,
                status: InvoiceStatus::Draft,
                customer_id: new.customer_id,
                currency: new.currency.code().to_owned(),
                total_cents: total,
                amount_paid_cents: 0,
                amount_due_cents: total,
                due_date: new.due_date,
                memo: new.memo,
                created_at,
            },
            line_items,
        };
        if let Some(key) = &key {
            idempotency::complete(&mut tx, tenant, key, &invoice).await?;
        }
        tx.commit().await?;
        Ok(invoice)
    }

    /// One invoice with its lines.
    #[tracing::instrument(skip_all, fields(tenant, %id))]
    pub async fn get(&self, tenant: &str, id: InvoiceId) -> Result<Invoice, DomainError> {
        let sql = format!(
            "select {SUMMARY_COLUMNS}, {DISPLAY_STATUS} as status from invoices i where i.tenant_id = $1 and i.invoice_id = $2"
        );
        let summary: InvoiceSummary = sqlx::query_as(&sql)
            .bind(tenant)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| DomainError::NotFound {
                entity: "invoice",
                id: id.to_string(),
            })?;
        let line_items = sqlx::query_as(
            "select line_no, description, amount_cents, quantity, line_total_cents
               from invoice_lines where invoice_id = $1 and tenant_id = $2 order by line_no",
        )
        .bind(id.0)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(Invoice {
            summary,
            line_items,
        })
    }

    /// Newest first, keyset-paginated: each page continues strictly after the cursor's row.
    #[tracing::instrument(skip_all, fields(tenant))]
    pub async fn list(&self, tenant: &str, query: &ListQuery) -> Result<Page, DomainError> {
        let filters = query.filters();
        let after = query
            .cursor
            .as_deref()
            .map(|c| cursor::decode(c, &filters))
            .transpose()?;
        let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "select {SUMMARY_COLUMNS}, {DISPLAY_STATUS} as status from invoices i where i.tenant_id = "
        ));
        sql.push_bind(tenant);
        if let Some(customer) = &query.customer_id {
            sql.push(" and i.customer_id = ").push_bind(customer);
        }
        match query.status {
            None => {}
            Some(InvoiceStatus::Overdue) => {
                sql.push(
                    " and i.status = 'sent' and i.due_date < (now() at time zone 'utc')::date",
                );
            }
            Some(InvoiceStatus::Sent) => {
                sql.push(" and i.status = 'sent' and (i.due_date is null or i.due_date >= (now() at time zone 'utc')::date)");
            }
            Some(status) => {
                sql.push(" and i.status = ").push_bind(status);
            }
        }
        if let Some(pos) = after {
            sql.push(" and (i.created_at, i.invoice_id) < (")
                .push_bind(pos.created_at)
                .push(", ")
                .push_bind(pos.id)
                .push(")");
        }
        // One row more than asked tells whether another page exists.
        let limit = i64::from(query.limit.clamp(1, 100));
        sql.push(" order by i.created_at desc, i.invoice_id desc limit ")
            .push_bind(limit + 1);
        let mut invoices: Vec<InvoiceSummary> = sql.build_query_as().fetch_all(&self.pool).await?;
        let next_cursor = if invoices.len() as i64 > limit {
            invoices.truncate(limit as usize);
            invoices.last().map(|last| {
                cursor::encode(
                    Position {
                        created_at: last.created_at,
                        id: last.invoice_id.0,
                    },
                    &filters,
                )
            })
        } else {
            None
        };
        Ok(Page {
            invoices,
            next_cursor,
        })
    }
}
