//! The audit trail: an append-only record of every change (the table refuses updates and
//! deletes). It is what an invoice's history shows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgExecutor};

use super::{Actor, DomainError};

/// One change, as a write describes it.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub entity: &'static str,
    pub entity_id: &'a str,
    pub action: &'static str,
    pub from_status: Option<&'a str>,
    pub to_status: Option<&'a str>,
    pub amount_cents: Option<i64>,
    pub currency: Option<&'a str>,
    pub details: Value,
}

impl<'a> Change<'a> {
    pub fn invoice(invoice_id: &'a str, action: &'static str) -> Self {
        Self {
            entity: "invoice",
            entity_id: invoice_id,
            action,
            from_status: None,
            to_status: None,
            amount_cents: None,
            currency: None,
            details: Value::Object(Default::default()),
        }
    }

    pub fn status(mut self, from: Option<&'a str>, to: &'a str) -> Self {
        self.from_status = from;
        self.to_status = Some(to);
        self
    }

    pub fn amount(mut self, cents: i64, currency: &'a str) -> Self {
        self.amount_cents = Some(cents);
        self.currency = Some(currency);
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// One entry of an entity's history, as readers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub amount_cents: Option<i64>,
    pub currency: Option<String>,
    pub via: String,
    pub session_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub details: Value,
}

pub async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    key: Option<&str>,
    c: Change<'_>,
) -> Result<(), DomainError> {
    sqlx::query(
        "insert into audit_events (tenant_id, tool, session_id, entity, entity_id, action, from_status, to_status,
                                   amount_cents, currency, idempotency_key, details)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&actor.tenant_id)
    .bind(actor.via)
    .bind(&actor.session_id)
    .bind(c.entity)
    .bind(c.entity_id)
    .bind(c.action)
    .bind(c.from_status)
    .bind(c.to_status)
    .bind(c.amount_cents)
    .bind(c.currency)
    .bind(key)
    .bind(c.details)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn history<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    entity: &str,
    entity_id: &str,
) -> Result<Vec<Event>, DomainError> {
    Ok(sqlx::query_as(
        "select occurred_at as at, action, from_status, to_status, amount_cents, currency, tool as via, session_id,
                idempotency_key, details
           from audit_events where tenant_id = $1 and entity = $2 and entity_id = $3 order by event_id",
    )
    .bind(tenant)
    .bind(entity)
    .bind(entity_id)
    .fetch_all(db)
    .await?)
}
