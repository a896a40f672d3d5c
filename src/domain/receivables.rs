//! Who owes what: outstanding and overdue amounts per customer and currency, with aging buckets,
//! as of any date (payments after that date and invoices issued after it do not count).

use chrono::NaiveDate;
use sqlx::{FromRow, PgConnection, PgPool, Postgres, QueryBuilder};

use super::DomainError;
use super::money::Currency;

#[derive(Debug, Clone, Default)]
pub struct OutstandingQuery {
    pub customer_id: Option<String>,
    pub currency: Option<Currency>,
    /// Defaults to today (UTC).
    pub as_of: Option<NaiveDate>,
}

/// Amounts due by days past due, as of the report's date.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Aging {
    /// Not yet due (or no due date).
    pub current_cents: i64,
    pub days_1_30_cents: i64,
    pub days_31_60_cents: i64,
    pub days_61_90_cents: i64,
    pub over_90_cents: i64,
}

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Balance {
    pub customer_id: String,
    pub currency: String,
    pub outstanding_cents: i64,
    pub overdue_cents: i64,
    pub open_invoices: i64,
    pub oldest_due_date: Option<NaiveDate>,
    #[sqlx(flatten)]
    pub aging: Aging,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutstandingReport {
    pub as_of: NaiveDate,
    pub balances: Vec<Balance>,
}

#[derive(Clone)]
pub struct ReceivablesService {
    pool: PgPool,
}

impl ReceivablesService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    #[tracing::instrument(skip_all)]
    pub async fn outstanding(&self, tenant: &str, q: &OutstandingQuery) -> Result<OutstandingReport, DomainError> {
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        report(&mut tx, tenant, q).await
    }
}

/// The report, read on the given connection (a tenant transaction).
pub(crate) async fn report(
    conn: &mut PgConnection,
    tenant: &str,
    q: &OutstandingQuery,
) -> Result<OutstandingReport, DomainError> {
    let today: NaiveDate = sqlx::query_scalar("select (now() at time zone 'utc')::date").fetch_one(&mut *conn).await?;
    let as_of = q.as_of.unwrap_or(today);
    // An invoice is open on `as_of` when it was issued by then, not voided by then, and
    // payments made by then leave something due.
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "with open as (
                 select i.customer_id, i.currency, i.due_date,
                        i.total_cents - coalesce(paid.cents, 0)::bigint as due, ",
    );
    // The payments summed once per invoice (a correlated subquery in the select list was
    // evaluated twice: once for `due`, once for the `due > 0` filter on the inlined CTE).
    sql.push_bind(as_of).push(
        " - i.due_date as days_late
                   from invoices i
                   cross join lateral (select sum(p.amount_cents) as cents from payments p
                                        where p.invoice_id = i.invoice_id
                                          and (p.paid_at at time zone 'utc')::date <= ",
    );
    sql.push_bind(as_of).push(
        ") paid
                  where i.tenant_id = ",
    );
    sql.push_bind(tenant);
    sql.push(" and i.issued_at is not null and (i.issued_at at time zone 'utc')::date <= ").push_bind(as_of);
    sql.push(" and (i.voided_at is null or (i.voided_at at time zone 'utc')::date > ").push_bind(as_of).push(")");
    if let Some(customer) = &q.customer_id {
        sql.push(" and i.customer_id = ").push_bind(customer);
    }
    if let Some(currency) = &q.currency {
        sql.push(" and i.currency = ").push_bind(currency.code());
    }
    // As of today or later only a sent invoice can be open (see the `invoices_open` migration):
    // saying so lets Postgres read that partial index instead of the tenant's whole history.
    // An earlier date reads history: an invoice paid since may have been open then.
    if as_of >= today {
        sql.push(" and i.status = 'sent'");
    }
    sql.push(
        ")
             select customer_id, currency,
                    sum(due)::bigint as outstanding_cents,
                    coalesce(sum(due) filter (where days_late > 0), 0)::bigint as overdue_cents,
                    count(*) as open_invoices,
                    min(due_date) as oldest_due_date,
                    coalesce(sum(due) filter (where days_late is null or days_late <= 0), 0)::bigint as current_cents,
                    coalesce(sum(due) filter (where days_late between 1 and 30), 0)::bigint as days_1_30_cents,
                    coalesce(sum(due) filter (where days_late between 31 and 60), 0)::bigint as days_31_60_cents,
                    coalesce(sum(due) filter (where days_late between 61 and 90), 0)::bigint as days_61_90_cents,
                    coalesce(sum(due) filter (where days_late > 90), 0)::bigint as over_90_cents
               from open where due > 0
              group by customer_id, currency
              order by customer_id, currency",
    );
    let balances = sql.build_query_as().fetch_all(&mut *conn).await?;
    Ok(OutstandingReport { as_of, balances })
}
