//! A customer's statement of account, per currency: activity between two dates (balance brought
//! forward, every invoice, payment and void with a running balance, the closing balance), or the
//! open items as of a date; with the aging table as of the end date.
//!
//! The balances and the aging come from the same report `list_outstanding` and `get_customer`
//! read ([`receivables::report`]), so the three agree to the minor unit. The activity between
//! them must add up: opening + charges − credits = closing, checked on every statement.

use chrono::{Days, NaiveDate};
use sqlx::{FromRow, PgConnection};

use super::super::money::{Currency, Money};
use super::super::receivables::{self, Aging, Balance, OutstandingQuery};
use super::super::{DomainError, InvoiceId, calendar};

/// The most activity rows one statement prints, over all currencies.
pub const MAX_ROWS: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// Activity from `from` to `to`, both included.
    Activity { from: NaiveDate, to: NaiveDate },
    /// What is open at the end of `as_of`.
    OpenItems { as_of: NaiveDate },
}

impl StatementKind {
    /// The date the balances and the aging are as of.
    pub fn end(self) -> NaiveDate {
        match self {
            Self::Activity { to, .. } => to,
            Self::OpenItems { as_of } => as_of,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StatementQuery {
    pub customer_id: String,
    pub kind: StatementKind,
    pub currency: Option<Currency>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// An invoice issued: a charge.
    Invoice,
    /// Money received (all of it, also a part kept as the customer's credit): a credit.
    Payment,
    /// A credit note: a credit, whatever part of it reduced an invoice or became credit.
    CreditNote,
    /// Money paid back (or settled outside Tally): a charge.
    Refund,
    /// A bad debt written off: a credit.
    WriteOff,
    /// The customer's credit applied to an invoice: neither (it moves from credit to the invoice).
    CreditApplied,
    /// An invoice voided: a credit of what was open on it.
    Void,
}

impl EntryKind {
    pub const ALL: [Self; 7] =
        [Self::Invoice, Self::Payment, Self::CreditNote, Self::Refund, Self::WriteOff, Self::CreditApplied, Self::Void];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Payment => "payment",
            Self::CreditNote => "credit_note",
            Self::Refund => "refund",
            Self::WriteOff => "write_off",
            Self::CreditApplied => "credit_applied",
            Self::Void => "void",
        }
    }
}

/// One line of activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub date: NaiveDate,
    pub kind: EntryKind,
    pub invoice_id: InvoiceId,
    pub number: String,
    /// The payment's method and reference, or the void's reason.
    pub note: Option<String>,
    pub charge_cents: i64,
    pub credit_cents: i64,
    /// After this entry.
    pub balance_cents: i64,
}

/// An invoice open at the statement's end.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenItem {
    pub invoice_id: InvoiceId,
    pub number: String,
    pub issued_on: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub original_cents: i64,
    pub open_cents: i64,
    /// Days past due at the end date; 0 when not yet due.
    pub days_late: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub currency: String,
    /// What was owed at the end of the day before `from` (0 for open items).
    pub opening_cents: i64,
    pub entries: Vec<Entry>,
    pub open_items: Vec<OpenItem>,
    /// What is owed at the end date: `list_outstanding`'s balance_cents (what is open, less the
    /// customer's unapplied credit).
    pub closing_cents: i64,
    pub aging: Aging,
}

impl Section {
    /// An amount of this section's currency.
    pub fn money(&self, minor: i64) -> Money {
        Money::of(minor, &self.currency)
    }

    pub fn closing(&self) -> Money {
        self.money(self.closing_cents)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatementFigures {
    pub kind: StatementKind,
    pub sections: Vec<Section>,
}

#[derive(FromRow)]
struct EntryRow {
    day: NaiveDate,
    kind: String,
    invoice_id: uuid::Uuid,
    number: String,
    currency: String,
    charge: i64,
    credit: i64,
    note: Option<String>,
}

#[derive(FromRow)]
struct OpenRow {
    invoice_id: uuid::Uuid,
    number: String,
    currency: String,
    issue_date: NaiveDate,
    due_date: Option<NaiveDate>,
    total_cents: i64,
    open_cents: i64,
}

/// Reads the figures on `conn`, a transaction scoped to `tenant`.
pub(crate) async fn figures(
    conn: &mut PgConnection,
    tenant: &str,
    q: &StatementQuery,
) -> Result<StatementFigures, DomainError> {
    let end = q.kind.end();
    // A statement states what happened: one that ends after today would print a projection
    // (lateness that has not happened, payments that may yet arrive) as fact.
    let today = calendar::today(&mut *conn).await?;
    let field = match q.kind {
        StatementKind::Activity { .. } => "to",
        StatementKind::OpenItems { .. } => "as_of",
    };
    calendar::not_after_today(
        field,
        end,
        today,
        "a statement reports what has happened, so it ends today at the latest",
    )?;
    let closing = balances(conn, q, end).await?;
    let (opening, rows, items) = match q.kind {
        StatementKind::Activity { from, to } => {
            // The balance brought forward is what was owed at the end of the day before.
            let before = from.checked_sub_days(Days::new(1)).unwrap_or(from);
            let opening = balances(conn, q, before).await?;
            (opening, activity(conn, tenant, q, from, to).await?, vec![])
        }
        StatementKind::OpenItems { as_of } => (vec![], vec![], open_items(conn, tenant, q, as_of).await?),
    };
    let mut currencies: Vec<&str> = closing
        .iter()
        .chain(&opening)
        .map(|b| b.currency.as_str())
        .chain(rows.iter().map(|r| r.currency.as_str()))
        .collect();
    currencies.sort_unstable();
    currencies.dedup();
    let find = |list: &[Balance], currency: &str| list.iter().find(|b| b.currency == currency).cloned();
    let mut sections = Vec::with_capacity(currencies.len());
    for currency in currencies {
        let opening_cents = find(&opening, currency).map_or(0, |b| b.balance_cents);
        let (closing_cents, aging) = match find(&closing, currency) {
            Some(b) => (b.balance_cents, b.aging),
            None => (
                0,
                Aging {
                    current_cents: 0,
                    days_1_30_cents: 0,
                    days_31_60_cents: 0,
                    days_61_90_cents: 0,
                    over_90_cents: 0,
                },
            ),
        };
        let mut balance = opening_cents;
        let entries: Vec<Entry> = rows
            .iter()
            .filter(|r| r.currency == currency)
            .map(|r| {
                balance += r.charge - r.credit;
                Entry {
                    date: r.day,
                    kind: EntryKind::ALL.into_iter().find(|k| k.as_str() == r.kind).unwrap_or(EntryKind::Void),
                    invoice_id: r.invoice_id.into(),
                    number: r.number.clone(),
                    note: r.note.clone(),
                    charge_cents: r.charge,
                    credit_cents: r.credit,
                    balance_cents: balance,
                }
            })
            .collect();
        if matches!(q.kind, StatementKind::Activity { .. }) && balance != closing_cents {
            tracing::error!(
                currency,
                balance,
                closing_cents,
                "statement activity does not add up to the closing balance"
            );
            return Err(DomainError::Inconsistent("the statement's activity does not add up to its closing balance"));
        }
        let open_items: Vec<OpenItem> = items
            .iter()
            .filter(|i| i.currency == currency)
            .map(|i| OpenItem {
                invoice_id: i.invoice_id.into(),
                number: i.number.clone(),
                issued_on: i.issue_date,
                due_date: i.due_date,
                original_cents: i.total_cents,
                open_cents: i.open_cents,
                days_late: i.due_date.map_or(0, |d| (end - d).num_days().max(0)),
            })
            .collect();
        sections.push(Section {
            currency: currency.to_owned(),
            opening_cents,
            entries,
            open_items,
            closing_cents,
            aging,
        });
    }
    Ok(StatementFigures { kind: q.kind, sections })
}

async fn balances(conn: &mut PgConnection, q: &StatementQuery, as_of: NaiveDate) -> Result<Vec<Balance>, DomainError> {
    let query =
        OutstandingQuery { customer_id: Some(q.customer_id.clone()), currency: q.currency.clone(), as_of: Some(as_of) };
    Ok(receivables::report(conn, &query).await?.balances)
}

/// Everything dated within the period, in date order: issues, payments, credit notes, refunds,
/// write-offs, credit applied and voids. A payment recorded as made before its invoice was issued
/// counts from the issue date, as the outstanding report counts it.
async fn activity(
    conn: &mut PgConnection,
    tenant: &str,
    q: &StatementQuery,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<EntryRow>, DomainError> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "select * from (
             select i.issue_date as day, i.issued_at as at, 0 as ord, 'invoice' as kind,
                    i.invoice_id, i.number, i.currency, i.total_cents as charge, 0::bigint as credit, null::text as note,
                    null::timestamptz as recorded, null::text as tie
               from invoices i
              where i.tenant_id = $1 and i.customer_id = $2 and i.issue_date is not null
             union all
             select greatest(p.paid_on, i.issue_date), greatest(p.paid_at, i.issued_at), 1, 'payment',
                    i.invoice_id, i.number, i.currency, 0, p.amount_cents,
                    replace(p.method, '_', ' ') || coalesce(', ref ' || p.reference, '')
                        || case when p.excess_cents > 0 then ', ' || p.excess_cents || ' kept as credit' else '' end,
                    p.created_at, p.payment_id::text
               from payments p
               join invoices i on i.tenant_id = p.tenant_id and i.invoice_id = p.invoice_id
              where p.tenant_id = $1 and i.customer_id = $2 and i.issue_date is not null
             union all
             select c.issue_date, c.issued_at, 2, 'credit_note', c.invoice_id, c.number, c.currency, 0, c.total_cents,
                    'for ' || c.invoice_number || ', ' || replace(c.reason, '_', ' '), c.created_at, c.number
               from credit_notes c
              where c.tenant_id = $1 and c.customer_id = $2
             union all
             select r.refunded_on, r.created_at, 3, 'refund', c.invoice_id, c.number, r.currency, r.amount_cents, 0,
                    case when r.method = 'out_of_band' then 'settled outside Tally'
                         else replace(r.method, '_', ' ') || coalesce(', ref ' || r.reference, '') end,
                    r.created_at, r.refund_id::text
               from refunds r
               join credit_notes c on c.tenant_id = r.tenant_id and c.credit_note_id = r.credit_note_id
              where r.tenant_id = $1 and r.customer_id = $2
             union all
             select greatest(s.dated, i.issue_date), s.created_at, 4,
                    case s.kind when 'credit' then 'credit_applied' else s.kind end,
                    i.invoice_id, i.number, i.currency, 0,
                    case when s.kind = 'credit' then 0 else s.amount_cents end,
                    case when s.kind = 'credit' then s.amount_cents || ' of credit applied' else s.note end,
                    s.created_at, s.settlement_id::text
               from invoice_settlements s
               join invoices i on i.tenant_id = s.tenant_id and i.invoice_id = s.invoice_id
              where s.tenant_id = $1 and i.customer_id = $2 and s.kind in ('write_off', 'void', 'credit')
         ) e
         where day between $3 and $4 and ($5::text is null or currency = $5)
         -- Entries share a day with others: when recorded, then the id, settle their order, so the
         -- same data prints the same rows.
         order by currency, day, at, ord, invoice_id, recorded, tie
         limit $6",
    )
    .bind(tenant)
    .bind(&q.customer_id)
    .bind(from)
    .bind(to)
    .bind(q.currency.as_ref().map(Currency::code))
    .bind(MAX_ROWS as i64 + 1)
    .fetch_all(&mut *conn)
    .await?;
    if rows.len() > MAX_ROWS {
        // The cap counts rows. Say where the first MAX_ROWS end, so the caller can split the period
        // there, or, when they all fall on one day, split by currency instead.
        let last_fitting = rows[MAX_ROWS - 1].day;
        let (first, over) = (rows[0].day, rows[MAX_ROWS].day);
        let currencies = rows.iter().any(|r| r.currency != rows[0].currency);
        let (field, message) = if first == over || (currencies && q.currency.is_none()) {
            (
                "currency",
                format!(
                    "The statement has more than {MAX_ROWS} rows: ask for one currency at a time (currency), or \
                     for the open items (kind open_items)"
                ),
            )
        } else if over > last_fitting {
            (
                "to",
                format!(
                    "The statement has more than {MAX_ROWS} rows; the first {MAX_ROWS} end on {last_fitting}: ask for \
                 from {from} to {last_fitting}, then from {over}"
                ),
            )
        } else {
            let before = last_fitting.pred_opt().unwrap_or(last_fitting);
            (
                "to",
                format!(
                    "The statement has more than {MAX_ROWS} rows; they fit up to {before}: ask for from {from} to \
                 {before}, then from {last_fitting}"
                ),
            )
        };
        return Err(DomainError::InvalidInput {
            field,
            message,
            expected: format!(
                "a statement of at most {MAX_ROWS} rows (invoices, payments, credit notes, refunds, write-offs and voids)"
            ),
        });
    }
    Ok(rows)
}

/// The invoices open at the end of `as_of`, on the outstanding report's terms.
async fn open_items(
    conn: &mut PgConnection,
    tenant: &str,
    q: &StatementQuery,
    as_of: NaiveDate,
) -> Result<Vec<OpenRow>, DomainError> {
    let rows: Vec<OpenRow> = sqlx::query_as(
        "select b.invoice_id, b.number, b.currency, b.issue_date, b.due_date, b.total_cents, b.open_cents
           from invoice_balances($3) b
          where b.customer_id = $2 and b.open_cents > 0 and ($4::text is null or b.currency = $4)
            and $1::text = current_setting('app.tenant_id', true)
          order by b.currency, b.issue_date, b.number
          limit $5",
    )
    .bind(tenant)
    .bind(&q.customer_id)
    .bind(as_of)
    .bind(q.currency.as_ref().map(Currency::code))
    .bind(MAX_ROWS as i64 + 1)
    .fetch_all(&mut *conn)
    .await?;
    if rows.len() > MAX_ROWS {
        return Err(DomainError::InvalidInput {
            field: "as_of",
            message: format!("More than {MAX_ROWS} invoices are open; ask for one currency at a time"),
            expected: format!("at most {MAX_ROWS} open invoices"),
        });
    }
    Ok(rows)
}
