//! Customers: the business's own key, a name, contact and billing defaults (currency, payment
//! terms), and what they owe.

use crate::domain::Entity;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};

use super::audit::{AuditAction, Change};
use super::cursor;
use super::idempotency::{Keyed, Written};
use super::money::Currency;
use super::receivables::{Balance, OutstandingQuery};
use super::write::{Begun, Write};
use super::{Actor, DomainError, Patch};

/// What `upsert` changes: only the fields given. Absent fields keep their current value (or the
/// default on insert); `Patch::Clear` clears one. A new customer needs a name.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerUpsert {
    pub customer_id: String,
    pub name: Option<String>,
    pub email: Patch<String>,
    pub currency: Option<Currency>,
    pub payment_terms_days: Option<i32>,
    /// Multi-line postal address printed in the buyer block.
    pub billing_address: Patch<String>,
    pub tax_id: Patch<String>,
}

#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Customer {
    pub customer_id: String,
    pub name: String,
    pub email: Option<String>,
    pub currency: String,
    pub payment_terms_days: i32,
    pub billing_address: Option<String>,
    pub tax_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpsertedCustomer {
    pub customer: Customer,
    /// True when this call created the customer, false when it updated one.
    pub created: bool,
}

/// A customer with what they owe today, per currency.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerAccount {
    pub customer: Customer,
    pub outstanding: Vec<Balance>,
}

#[derive(Debug, Clone)]
pub struct CustomerPage {
    pub customers: Vec<Customer>,
    pub next_cursor: Option<String>,
}

#[derive(FromRow)]
struct UpsertRow {
    #[sqlx(flatten)]
    customer: Customer,
    created: bool,
}

const COLUMNS: &str =
    "customer_id, name, email, currency, payment_terms_days, billing_address, tax_id, created_at, updated_at";

/// The customer, read on a tenant transaction; None when Tally has no record of it.
pub(crate) async fn load(
    conn: &mut sqlx::PgConnection,
    tenant: &str,
    customer_id: &str,
) -> Result<Option<Customer>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from customers where tenant_id = $1 and customer_id = $2"))
        .bind(tenant)
        .bind(customer_id)
        .fetch_optional(conn)
        .await
}

#[derive(Clone)]
pub struct CustomerService {
    pool: PgPool,
}

impl CustomerService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Creates the customer or updates the fields given. Idempotent by nature; a key also
    /// makes a retry return the first result.
    #[tracing::instrument(skip_all, fields(customer = %c.customer_id))]
    pub async fn upsert(
        &self,
        actor: &Actor,
        c: CustomerUpsert,
        key: Option<Keyed<UpsertedCustomer>>,
    ) -> Result<Written<UpsertedCustomer>, DomainError> {
        let mut w = match Write::begin(&self.pool, actor, key, &c).await? {
            Begun::Fresh(w) => w,
            Begun::Replay(first) => return Ok(first),
        };
        // A text field's patch as two binds: whether to keep it, and the new value (null clears).
        let keep = |p: &Patch<String>| p.is_keep();
        let value = |p: &Patch<String>| match p {
            Patch::Set(v) => Some(v.clone()),
            _ => None,
        };
        let row: Option<UpsertRow> = sqlx::query_as(&format!(
            "insert into customers as c (tenant_id, customer_id, name, email, currency, payment_terms_days,
                                         billing_address, tax_id)
             select $1, $2, n.name, $5, coalesce($6, 'USD'), coalesce($7, 30), $9, $11
               from (select coalesce($3, (select k.name from customers k
                                           where k.tenant_id = $1 and k.customer_id = $2)) as name) n
              where n.name is not null
             on conflict (tenant_id, customer_id) do update
                set name = coalesce($3, c.name),
                    email = case when $4 then c.email else $5 end,
                    currency = coalesce($6, c.currency),
                    payment_terms_days = coalesce($7, c.payment_terms_days),
                    billing_address = case when $8 then c.billing_address else $9 end,
                    tax_id = case when $10 then c.tax_id else $11 end,
                    updated_at = now()
             returning {COLUMNS}, (xmax = 0) as created"
        ))
        .bind(w.tenant())
        .bind(&c.customer_id)
        .bind(&c.name)
        .bind(keep(&c.email))
        .bind(value(&c.email))
        .bind(c.currency.as_ref().map(Currency::code))
        .bind(c.payment_terms_days)
        .bind(keep(&c.billing_address))
        .bind(value(&c.billing_address))
        .bind(keep(&c.tax_id))
        .bind(value(&c.tax_id))
        .fetch_optional(w.conn())
        .await?;
        let Some(row) = row else {
            return Err(DomainError::InvalidInput {
                field: "name",
                message: format!("{:?} is a new customer, and a new customer needs a name", c.customer_id),
                expected: "the customer's name, e.g. \"Acme Ltd\"".into(),
            });
        };
        let change = Change {
            entity: Entity::Customer,
            entity_id: &c.customer_id,
            action: if row.created { AuditAction::Created } else { AuditAction::Updated },
            from_status: None,
            to_status: None,
            amount_cents: None,
            currency: None,
            details: json!({ "name": row.customer.name, "email": row.customer.email, "currency": row.customer.currency, "payment_terms_days": row.customer.payment_terms_days }),
        };
        w.audit(change).await?;
        let result = UpsertedCustomer { customer: row.customer, created: row.created };
        w.commit(result).await
    }

    /// The customer with their outstanding balances today.
    pub async fn get(&self, tenant: &str, customer_id: &str) -> Result<CustomerAccount, DomainError> {
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        let customer = load(&mut tx, tenant, customer_id)
            .await?
            .ok_or_else(|| DomainError::NotFound { entity: Entity::Customer, id: customer_id.to_owned() })?;
        let query = OutstandingQuery { customer_id: Some(customer_id.to_owned()), ..Default::default() };
        let outstanding = super::receivables::report(&mut tx, &query).await?.balances;
        Ok(CustomerAccount { customer, outstanding })
    }

    /// By name (case-insensitive), then id; `query` matches any part of the name.
    pub async fn list(
        &self,
        tenant: &str,
        query: Option<&str>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<CustomerPage, DomainError> {
        let filters = format!("query={query:?}");
        let after = after.map(|c| cursor::decode(c, &filters, 2)).transpose()?;
        let mut sql: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("select {COLUMNS} from customers where tenant_id = "));
        sql.push_bind(tenant);
        if let Some(q) = query {
            let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            sql.push(" and lower(name) like ").push_bind(format!("%{escaped}%"));
        }
        if let Some(parts) = &after {
            sql.push(" and (lower(name), customer_id) > (")
                .push_bind(parts[0].clone())
                .push(", ")
                .push_bind(parts[1].clone())
                .push(")");
        }
        let limit = i64::from(limit.clamp(1, 100));
        sql.push(" order by lower(name), customer_id limit ").push_bind(limit + 1);
        let mut tx = crate::db::begin_for(&self.pool, tenant).await?;
        let mut customers: Vec<Customer> = sql.build_query_as().fetch_all(&mut *tx).await?;
        let next_cursor = if customers.len() as i64 > limit {
            customers.truncate(limit as usize);
            customers.last().map(|c| cursor::encode(&[&c.name.to_lowercase(), &c.customer_id], &filters))
        } else {
            None
        };
        Ok(CustomerPage { customers, next_cursor })
    }
}
