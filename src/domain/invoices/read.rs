//! Reading invoices: one with everything, or a keyset-paginated listing.

use crate::domain::Entity;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::payments;
use super::{
    CreditNoteRef, DISPLAY_STATUS, Invoice, InvoiceService, InvoiceSummary, LINE_COLUMNS, ListQuery, Page,
    SUMMARY_COLUMNS, Supply, TAX_COLUMNS, TaxFigures, WrittenOff,
};
use crate::domain::cursor::Position;
use crate::domain::{DomainError, InvoiceId, audit};

impl InvoiceService {
    /// One invoice with its lines, payments and history.
    #[tracing::instrument(skip_all, fields(%id))]
    pub async fn get(&self, tenant: &str, id: InvoiceId) -> Result<Invoice, DomainError> {
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        load(&mut tx, tenant, id).await
    }

    /// Newest first, keyset-paginated: each page continues strictly after the cursor's row.
    #[tracing::instrument(skip_all)]
    pub async fn list(&self, tenant: &str, query: &ListQuery) -> Result<Page, DomainError> {
        let filters = format!("customer={:?};status={:?}", query.customer_id, query.status);
        let after = query.cursor.as_deref().map(|c| Position::decode(c, &filters)).transpose()?;
        let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "select {SUMMARY_COLUMNS}, {DISPLAY_STATUS} as status from invoices i where i.tenant_id = "
        ));
        sql.push_bind(tenant);
        if let Some(customer) = &query.customer_id {
            sql.push(" and i.customer_id = ").push_bind(customer);
        }
        if let Some(status) = query.status {
            // The status a caller sees, by the one rule (overdue and sent differ only by date).
            sql.push(format!(" and {DISPLAY_STATUS} = ")).push_bind(status.as_str());
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
        sql.push(" order by i.created_at desc, i.invoice_id desc limit ").push_bind(limit + 1);
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        let rows: Vec<InvoiceSummary> = sql.build_query_as().fetch_all(&mut *tx).await?;
        let mut invoices: Vec<InvoiceSummary> = rows.into_iter().map(InvoiceSummary::derive).collect();
        let next_cursor = if invoices.len() as i64 > limit {
            invoices.truncate(limit as usize);
            invoices.last().map(|last| Position { created_at: last.created_at, id: last.invoice_id.0 }.encode(&filters))
        } else {
            None
        };
        Ok(Page { invoices, next_cursor })
    }
}

/// Everything about one invoice, read on the given connection (inside a write, it sees the
/// write's own changes).
pub(crate) async fn load(conn: &mut PgConnection, tenant: &str, id: InvoiceId) -> Result<Invoice, DomainError> {
    let sql = format!(
        "select {SUMMARY_COLUMNS}, {DISPLAY_STATUS} as status, i.voided_at, i.void_reason,
                i.supply_date, i.period_start, i.period_end, {TAX_COLUMNS}
           from invoices i where i.tenant_id = $1 and i.invoice_id = $2"
    );
    let row: WithVoid = sqlx::query_as(&sql)
        .bind(tenant)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| DomainError::NotFound { entity: Entity::Invoice, id: id.to_string() })?;
    let WithVoid { summary, voided_at, void_reason, supply, taxes } = row;
    let line_items = sqlx::query_as(&format!(
        "select {LINE_COLUMNS} from invoice_lines where invoice_id = $1 and tenant_id = $2 order by line_no"
    ))
    .bind(id.0)
    .bind(tenant)
    .fetch_all(&mut *conn)
    .await?;
    let payments = payments::of_invoice(&mut *conn, tenant, id).await?;
    let credit_notes: Vec<CreditNoteRef> = sqlx::query_as(
        "select credit_note_id, number, issue_date, reason, total_cents, applied_cents, excess_cents, excess_to
           from credit_notes where tenant_id = $1 and invoice_id = $2 order by created_at, number",
    )
    .bind(tenant)
    .bind(id.0)
    .fetch_all(&mut *conn)
    .await?;
    let write_off: Option<WrittenOff> = sqlx::query_as(
        "select amount_cents, dated as written_off_on, note as reason from invoice_settlements
          where tenant_id = $1 and invoice_id = $2 and kind = 'write_off'",
    )
    .bind(tenant)
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?;
    let history = audit::history(&mut *conn, tenant, Entity::Invoice, &id.to_string()).await?;
    Ok(Invoice {
        summary: summary.derive(),
        line_items,
        taxes,
        payments,
        credit_notes,
        write_off,
        supply,
        voided_at,
        void_reason,
        history,
    })
}

#[derive(sqlx::FromRow)]
struct WithVoid {
    #[sqlx(flatten)]
    summary: InvoiceSummary,
    voided_at: Option<DateTime<Utc>>,
    void_reason: Option<String>,
    #[sqlx(flatten)]
    supply: Supply,
    #[sqlx(flatten)]
    taxes: TaxFigures,
}
