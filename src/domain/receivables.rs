//! Who owes what: outstanding and overdue amounts per customer and currency, with aging buckets,
//! and the customer's unapplied credit beside them, as of any date (what is dated after it, and
//! invoices issued after it, do not count).

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
    /// The customer's credit not yet applied (credit notes' excess kept for it, overpayments).
    pub credit_cents: i64,
    /// What the customer owes on balance: `outstanding_cents − credit_cents` (negative when the
    /// business owes the customer).
    pub balance_cents: i64,
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
        "select coalesce(o.customer_id, c.customer_id) as customer_id, coalesce(o.currency, c.currency) as currency,
                coalesce(o.outstanding_cents, 0)::bigint as outstanding_cents,
                coalesce(o.overdue_cents, 0)::bigint as overdue_cents,
                coalesce(o.open_invoices, 0)::bigint as open_invoices, o.oldest_due_date,
                coalesce(o.current_cents, 0)::bigint as current_cents,
                coalesce(o.days_1_30_cents, 0)::bigint as days_1_30_cents,
                coalesce(o.days_31_60_cents, 0)::bigint as days_31_60_cents,
                coalesce(o.days_61_90_cents, 0)::bigint as days_61_90_cents,
                coalesce(o.over_90_cents, 0)::bigint as over_90_cents,
                coalesce(c.credit_cents, 0)::bigint as credit_cents,
                (coalesce(o.outstanding_cents, 0) - coalesce(c.credit_cents, 0))::bigint as balance_cents
           from (
         select customer_id, currency,
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
          group by customer_id, currency) o
          full join (select * from customer_credit_balances(",
    );
    // The customer's credit, as of the same day, under the same filters.
    sql.push_bind(as_of).push(") cb where true");
    if let Some(customer) = &q.customer_id {
        sql.push(" and cb.customer_id = ").push_bind(customer);
    }
    if let Some(currency) = &q.currency {
        sql.push(" and cb.currency = ").push_bind(currency.code());
    }
    sql.push(
        ") c on c.customer_id = o.customer_id and c.currency = o.currency
          order by 1, 2",
    );
    let balances = sql.build_query_as().fetch_all(&mut *conn).await?;
    Ok(OutstandingReport { as_of, balances })
}
