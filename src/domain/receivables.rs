//! Who owes what: outstanding and overdue amounts per customer and currency, with aging buckets,
//! as of any date (payments after that date and invoices issued after it do not count).

use chrono::NaiveDate;
use sqlx::{FromRow, PgConnection, PgPool, Postgres, QueryBuilder};

use super::money::Currency;
use super::{DomainError, calendar};

#[derive(Debug, Clone, Default)]
pub struct OutstandingQuery {
    pub customer_id: Option<String>,
    pub currency: Option<Currency>,
    /// Defaults to the tenant's today.
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
        report(&mut tx, q).await
    }
}

/// The report, read on the given connection (a tenant transaction), from the one ledger rule
/// (`invoice_balances`, see migrations/): every figure, for any date, is what was open on the
/// tenant's invoices at the end of that day.
pub(crate) async fn report(conn: &mut PgConnection, q: &OutstandingQuery) -> Result<OutstandingReport, DomainError> {
    let as_of = match q.as_of {
        Some(day) => day,
        None => calendar::today(&mut *conn).await?,
    };
    let mut sql: QueryBuilder<Postgres> = QueryBuilder::new(
        "select customer_id, currency,
                sum(open_cents)::bigint as outstanding_cents,
                coalesce(sum(open_cents) filter (where days_late > 0), 0)::bigint as overdue_cents,
                count(*) as open_invoices,
                min(due_date) as oldest_due_date,
                coalesce(sum(open_cents) filter (where days_late is null or days_late <= 0), 0)::bigint as current_cents,
                coalesce(sum(open_cents) filter (where days_late between 1 and 30), 0)::bigint as days_1_30_cents,
                coalesce(sum(open_cents) filter (where days_late between 31 and 60), 0)::bigint as days_31_60_cents,
                coalesce(sum(open_cents) filter (where days_late between 61 and 90), 0)::bigint as days_61_90_cents,
                coalesce(sum(open_cents) filter (where days_late > 90), 0)::bigint as over_90_cents
           from (select b.customer_id, b.currency, b.due_date, b.open_cents, ",
    );
    sql.push_bind(as_of).push(" - b.due_date as days_late from invoice_balances(").push_bind(as_of);
    sql.push(") b where b.open_cents > 0");
    // invoice_balances reads the transaction's tenant (`begin_for` set it to `tenant`).
    if let Some(customer) = &q.customer_id {
        sql.push(" and b.customer_id = ").push_bind(customer);
    }
    if let Some(currency) = &q.currency {
        sql.push(" and b.currency = ").push_bind(currency.code());
    }
    sql.push(
        ") open
          group by customer_id, currency
          order by customer_id, currency",
    );
    let balances = sql.build_query_as().fetch_all(&mut *conn).await?;
    Ok(OutstandingReport { as_of, balances })
}
